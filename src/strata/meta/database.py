"""``open_database`` and ``MetadataDB``: the metadata database as the rest of Strata sees it.

This module imports neither SQLAlchemy nor Alembic at import time (start-up stays fast for
commands that never touch the database); the backend modules are imported on first use.
Every foreign error is translated into MetadataError by ``translate.translating``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING

from strata.errors import MetadataError
from strata.meta.records import FileVersion, check_file_version
from strata.meta.urls import redact

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine


def open_database(url: str) -> MetadataDB:
    """Connect to the database at ``url`` and migrate it to the current schema.

    ``url`` is a SQLAlchemy URL: ``sqlite:////abs/path/strata.db`` or
    ``postgresql://user@host:5432/db`` (psycopg 3). Raises MetadataError when the database
    cannot be reached, or was written by a newer Strata.
    """
    from strata.meta import engine, migrate, translate, urls

    with translate.translating("cannot open metadata database", url):
        parsed = urls.parse(url)
        db = MetadataDB(parsed.render_as_string(hide_password=False), engine.make_engine(parsed))
    try:
        with translate.translating("cannot open metadata database", url):
            migrate.ensure_schema(db._engine)
    except BaseException:
        db.close()
        raise
    return db


class MetadataDB:
    """An open metadata database. Thread-safe; close it (or use ``with``) when done."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self._engine: Engine = engine
        self._closed = False

    def __repr__(self) -> str:
        return f"MetadataDB({redact(self.url)!r})"

    def __enter__(self) -> MetadataDB:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection. Closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    @contextmanager
    def transaction(self, action: str, *, write: bool) -> Iterator[Connection]:
        """A connection in a transaction that commits on success; foreign errors translated.

        The capabilities (tables, models, lineage) run their own queries on the tables of
        ``strata.meta.schema`` through this. ``write=True`` takes the write lock up front
        (``BEGIN IMMEDIATE`` on SQLite) so concurrent writers queue instead of failing.
        """
        from strata.meta.engine import WRITE_LOCK
        from strata.meta.translate import translating

        if self._closed:
            raise MetadataError(
                f"{action}: the metadata database {redact(self.url)} is closed",
                hint="open it again with open_database()",
            )
        with translating(action, self.url), self._engine.connect() as connection:
            if write:
                connection.execution_options(**{WRITE_LOCK: True})
            with connection.begin():
                yield connection

    def record_file_versions(self, versions: Iterable[FileVersion]) -> int:
        """Store the versions not stored yet (same path and hash); how many were new.

        All or nothing, in one transaction. A version without ``recorded_at`` gets the time of
        the write.
        """
        from strata.meta import file_versions

        unique: dict[tuple[str, str], FileVersion] = {}
        for version in versions:
            check_file_version(version)
            unique.setdefault((version.path, version.hash), version)
        with self.transaction("cannot record file versions", write=True) as connection:
            return file_versions.insert_new(connection, list(unique.values()), datetime.now(UTC))

    def file_versions(self, path: str | None = None) -> list[FileVersion]:
        """Stored versions of ``path`` (all paths when None), oldest first."""
        from strata.meta import file_versions

        with self.transaction("cannot read file versions", write=False) as connection:
            return file_versions.select(connection, path)
