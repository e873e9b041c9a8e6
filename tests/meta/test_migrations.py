from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from strata.meta import SCHEMA_HEAD, open_database
from strata.meta.migrate import alembic_config
from strata.meta.schema import metadata


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
            diff = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()
    assert diff == []
