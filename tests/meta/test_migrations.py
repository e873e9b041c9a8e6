from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from strata.meta import SCHEMA_HEAD, open_database
from strata.meta.migrate import VERSION_TABLE, alembic_config
from strata.meta.schema import metadata

MLFLOW_REVISION = "0584bdc529eb"  # a revision id of MLflow's tracking-store migrations


def test_schema_head_is_alembic_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_current_head() == SCHEMA_HEAD, "bump SCHEMA_HEAD in strata/meta/head.py"


def test_revision_ids_match_file_names() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    for revision in script.walk_revisions():
        assert revision.path is not None
        assert revision.path.rsplit("/", 1)[-1].startswith(f"{revision.revision}_")


def test_migrations_build_the_schema_in_schema_py(db_url: str) -> None:
    open_database(db_url).close()
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            diff = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diff == []


def _versions(db_url: str, table: str) -> list[str]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(f"SELECT version_num FROM {table}"))
            return [row[0] for row in rows]
    finally:
        engine.dispose()


def _legacy_version_table(connection: sa.Connection, revision: str) -> None:
    """Alembic's default version table, as Alembic (and MLflow) create it, holding ``revision``."""
    connection.execute(
        sa.text(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
        )
    )
    connection.execute(sa.text("INSERT INTO alembic_version VALUES (:rev)"), {"rev": revision})


def test_database_shared_with_mlflow_keeps_both_version_tables(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            _legacy_version_table(connection, MLFLOW_REVISION)
    finally:
        engine.dispose()
    open_database(db_url).close()
    open_database(db_url).close()
    assert _versions(db_url, "alembic_version") == [MLFLOW_REVISION]
    assert _versions(db_url, VERSION_TABLE) == [SCHEMA_HEAD]


def test_legacy_version_table_is_moved_and_upgraded(db_url: str) -> None:
    """A database migrated while Strata used Alembic's default table name, at an older
    revision, opens, upgrades to the head and keeps its revision in Strata's own table."""
    from alembic import command

    previous = ScriptDirectory.from_config(alembic_config()).get_revision(SCHEMA_HEAD).down_revision
    assert isinstance(previous, str)
    open_database(db_url).close()
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, previous)
            connection.execute(sa.text(f"DROP TABLE {VERSION_TABLE}"))
            _legacy_version_table(connection, previous)
    finally:
        engine.dispose()
    with open_database(db_url) as db:
        assert db.file_versions() == []
    assert _versions(db_url, VERSION_TABLE) == [SCHEMA_HEAD]
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            assert not sa.inspect(connection).has_table("alembic_version")
    finally:
        engine.dispose()
