"""Engines for the two supported backends, configured the way Strata needs them.

SQLite: the parent directory is created, every connection runs in WAL mode with a busy timeout
and foreign keys on, and SQLAlchemy (not the sqlite3 module) emits BEGIN, so DDL is
transactional too and a writer can take the write lock up front (``BEGIN IMMEDIATE``).
PostgreSQL: psycopg 3 with a connect timeout, so an unreachable server fails instead of hanging,
and pooled connections checked before use, so a restarted server costs no failed request.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL

BUSY_TIMEOUT_MS = 10_000
# SQLite connections kept open for reuse: enough for a server's request threads (uvicorn runs
# up to 40), so a request does not pay for a new connection and its PRAGMAs.
SQLITE_POOL_SIZE = 40
CONNECT_TIMEOUT_S = 10
# Execution option: this connection's transactions will write, so lock for writing up front.
WRITE_LOCK = "strata_write_lock"


def make_engine(url: URL) -> sa.Engine:
    """A new engine for ``url`` (already parsed by ``urls.parse``); connects lazily."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_TIMEOUT_S}
    return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> sa.Engine:
    database = url.database or ""
    on_disk = bool(database) and database != ":memory:" and not url.query.get("uri")
    if on_disk:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    pool = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": 10} if on_disk else {}
    engine = sa.create_engine(url, **pool)
    sa.event.listen(engine, "connect", _on_sqlite_connect)
    sa.event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # BEGIN is emitted by _on_sqlite_begin
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """Switch to WAL (persistent, so this matters for a new file only), waiting out others.

    Changing the journal mode needs an exclusive lock and SQLite reports "database is locked"
    at once instead of calling the busy handler, so retry for as long as busy_timeout allows.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _on_sqlite_begin(connection: sa.Connection) -> None:
    write = connection.get_execution_options().get(WRITE_LOCK, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
