"""Bring a database to ``SCHEMA_HEAD`` with the Alembic migrations shipped in the package.

Opening reads ``alembic_version`` with plain SQLAlchemy; Alembic is imported only when the
stored revision differs from the head. The upgrade runs in one transaction holding a lock (an
advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two processes opening a new
database at once do not both migrate it.
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
VERSION_TABLE = "alembic_version"
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


def current_revisions(connection: sa.Connection) -> tuple[str, ...]:
    """The revisions stored in ``alembic_version``; empty for a database never migrated."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))
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
        current = current_revisions(connection)
        if current == (SCHEMA_HEAD,):
            return
        _refuse_unknown(connection, current)
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, SCHEMA_HEAD)
