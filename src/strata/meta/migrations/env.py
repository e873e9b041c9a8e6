"""Alembic environment: run the migrations on the connection Strata hands over.

``strata.meta.migrate`` puts an open connection, already inside a transaction, into
``config.attributes["connection"]``; the migrations then join that transaction, so a schema
upgrade commits completely or not at all. Without one (running alembic by hand, with
``-x url=...`` or ``sqlalchemy.url`` set), an engine is created from the URL, or with ``--sql``
the SQL is printed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from strata.meta.migrate import VERSION_TABLE
from strata.meta.schema import metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass -x url=... or set sqlalchemy.url")
    return url


def _run_offline() -> None:
    context.configure(
        url=_url(), target_metadata=metadata, literal_binds=True, version_table=VERSION_TABLE
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_from_url() -> None:
    engine = sa.create_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


connection = context.config.attributes.get("connection")
if isinstance(connection, sa.Connection):
    _run(connection)
elif context.is_offline_mode():
    _run_offline()
else:
    _run_from_url()
