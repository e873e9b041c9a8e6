"""Bring a database to ``SCHEMA_HEAD`` with the Alembic migrations shipped in the package.

Opening reads ``strata_alembic_version`` with plain SQLAlchemy; Alembic is imported only when
the stored revision differs from the head. The upgrade runs in one transaction holding a lock (an
advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two processes opening a new
database at once do not both migrate it.

The version table has a name of Strata's own, so a database shared with another Alembic user
(MLflow's tracking store keeps ``alembic_version``) holds both. A database written before the
rename, whose ``alembic_version`` holds Strata revisions only, has it moved over in the upgrade's
transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from strata.errors import MetadataError
from strata.meta.engine import WRITE_LOCK
from strata.meta.head import SCHEMA_HEAD
from strata.meta.urls import redact

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "strata_alembic_version"
LEGACY_VERSION_TABLE = "alembic_version"
_PG_MIGRATION_LOCK = 0x5354_5241_5441  # "STRATA", any constant shared by all Strata versions


def alembic_config() -> Config:
    """An Alembic config for the packaged migrations, built in code (no alembic.ini)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def current_revisions(connection: sa.Connection, table: str = VERSION_TABLE) -> tuple[str, ...]:
    """The revisions stored in ``table``; empty for a database never migrated."""
    if not sa.inspect(connection).has_table(table):
        return ()
    rows = connection.execute(sa.text(f"SELECT version_num FROM {table}"))
    return tuple(sorted(str(row[0]) for row in rows))


def ensure_schema(engine: sa.Engine) -> None:
    """Migrate the database to ``SCHEMA_HEAD`` unless it is there already."""
    with engine.connect() as connection:
        if current_revisions(connection) == (SCHEMA_HEAD,):
            return
    _upgrade(engine)


def _lock(connection: sa.Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))


def _refuse_unknown(connection: sa.Connection, current: tuple[str, ...]) -> None:
    unknown = sorted(set(current) - known_revisions())
    if unknown:
        url = redact(connection.engine.url.render_as_string(hide_password=False))
        raise MetadataError(
            f"the metadata database at {url} has schema revision {', '.join(unknown)}, "
            f"written by a newer strata (this one knows revisions up to {SCHEMA_HEAD})",
            hint="upgrade strata (pip install -U strata-ml) to open it",
        )


def _upgrade(engine: sa.Engine) -> None:
    from alembic import command

    connection = engine.connect().execution_options(**{WRITE_LOCK: True})
    with connection, connection.begin():
        _lock(connection)
        _adopt_legacy_version_table(connection)
        current = current_revisions(connection)
        if current == (SCHEMA_HEAD,):
            return
        _refuse_unknown(connection, current)
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, SCHEMA_HEAD)


def _adopt_legacy_version_table(connection: sa.Connection) -> None:
    """Move the revision of a database migrated under Alembic's default version table name to
    ``VERSION_TABLE``, when that table holds Strata's revisions only (not another tool's)."""
    if sa.inspect(connection).has_table(VERSION_TABLE):
        return
    legacy = current_revisions(connection, LEGACY_VERSION_TABLE)
    if not legacy or not set(legacy) <= known_revisions():
        return
    # Created anew, not renamed: the primary key's name must not keep the legacy table's,
    # which another tool's alembic_version would want on PostgreSQL.
    table = sa.Table(
        VERSION_TABLE,
        sa.MetaData(),
        sa.Column("version_num", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
    )
    table.create(connection)
    connection.execute(table.insert(), [{"version_num": rev} for rev in legacy])
    connection.execute(sa.text(f"DROP TABLE {LEGACY_VERSION_TABLE}"))
