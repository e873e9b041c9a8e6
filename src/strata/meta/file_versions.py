"""Queries on the ``file_versions`` table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from strata.meta.records import FileVersion, as_kind
from strata.meta.schema import file_versions as table

_CONFLICT_KEY = ["path", "hash"]


def _insert(dialect: str) -> sqlite.Insert | postgresql.Insert:
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=_CONFLICT_KEY)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=_CONFLICT_KEY)


def insert_new(connection: sa.Connection, versions: Sequence[FileVersion], now: datetime) -> int:
    """Insert the versions whose (path, hash) is not stored yet; how many were new."""
    rows = [
        {
            "path": v.path,
            "hash": v.hash,
            "kind": v.kind,
            "size": v.size,
            "files": v.files,
            "recorded_at": v.recorded_at or now,
        }
        for v in versions
    ]
    if not rows:
        return 0
    statement = _insert(connection.dialect.name).returning(table.c.id)
    return len(connection.execute(statement, rows).all())


def select(connection: sa.Connection, path: str | None) -> list[FileVersion]:
    """Stored versions, of one path or all, oldest first."""
    query = sa.select(table).order_by(table.c.recorded_at, table.c.id)
    if path is not None:
        query = query.where(table.c.path == path)
    return [
        FileVersion(
            path=row.path,
            hash=row.hash,
            kind=as_kind(row.kind),
            size=row.size,
            files=row.files,
            recorded_at=row.recorded_at,
        )
        for row in connection.execute(query)
    ]
