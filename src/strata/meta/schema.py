"""Table definitions of the metadata database (SQLAlchemy Core, one ``MetaData``).

This is the current shape of the schema, used to build queries; the migrations in
``migrations/versions/`` are what create it. To add tables (or change one):

1. define them here on ``metadata``;
2. copy ``migrations/versions/0001_file_versions.py`` to ``000N_<what>.py`` with
   ``revision = "000N"`` and ``down_revision`` the previous one, creating exactly that;
3. set ``SCHEMA_HEAD = "000N"`` in ``head.py``.

Tests check that the head matches and that the migrated database equals this metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

# Stable constraint names, so later migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware timestamp, stored and returned in UTC on every backend.

    SQLite keeps no offset, so values are converted to UTC before they are written and get
    ``tzinfo=UTC`` back when read; PostgreSQL's ``timestamptz`` is normalised to UTC too.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


file_versions = sa.Table(
    "file_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("files", sa.Integer, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("path", "hash"),
    sa.CheckConstraint("kind IN ('file', 'directory')", name="kind"),
)
