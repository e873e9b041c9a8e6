"""The one place where SQLAlchemy, Alembic and driver errors become MetadataError, or its
MetadataUnavailableError when the database cannot be reached right now."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from strata.errors import MetadataError, MetadataUnavailableError
from strata.meta.urls import URL_HINT, redact

# Foreign error types that are only checked once their library has been imported.
_LAZY_ERRORS = (
    ("alembic.util.exc", "CommandError"),
    ("alembic.script.revision", "RevisionError"),
    ("psycopg", "Error"),
)
DEFAULT_HINT = "check the metadata.url setting and that the database is reachable and healthy"
# PostgreSQL's SQLSTATEs for a connection lost or refused: class 08, and the server shutting
# down, crashed, or still starting (57P01..57P03).
_UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03")


def _foreign_errors() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [sa_exc.SQLAlchemyError, sqlite3.Error, OSError]
    types.append(ImportError)
    for module_name, name in _LAZY_ERRORS:
        module = sys.modules.get(module_name)
        if module is not None:
            types.append(getattr(module, name))
    return tuple(types)


def _scrub(text: str, url: str) -> str:
    try:
        password = make_url(url).password
    except sa_exc.ArgumentError:
        password = None
    if isinstance(password, str) and len(password) >= 4:
        text = text.replace(password, "***")
    return text


def reason(exc: BaseException, url: str) -> str:
    """A one-line description of ``exc`` that never contains the URL's password."""
    if isinstance(exc, sa_exc.StatementError) and exc.orig is not None:
        exc = exc.orig
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    else:
        text = str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _scrub(lines[0] if lines else type(exc).__name__, url)


def hint_for(exc: BaseException, url: str) -> str:
    if isinstance(exc, ImportError):
        if (exc.name or "").startswith("psycopg"):
            return "install the PostgreSQL driver: pip install 'strata-ml[postgres]'"
        return f"install the missing module {exc.name}"
    if isinstance(exc, sa_exc.ArgumentError | sa_exc.NoSuchModuleError):
        return URL_HINT
    if isinstance(exc, sa_exc.OperationalError) and url.startswith("sqlite"):
        return "check that the file is writable; if another strata is busy with it, retry"
    if isinstance(exc, sa_exc.OperationalError):
        return "check that the database server is running and that metadata.url is right"
    if isinstance(exc, OSError):
        return "check that the directory exists and is writable"
    return DEFAULT_HINT


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached right now (down, restarting, the
    connection lost, no connection free in time, SQLite busy past its timeout), rather than
    that the request or the data is wrong."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.StatementError) and exc.orig is not None:
        exc = exc.orig
    if isinstance(exc, sqlite3.OperationalError):
        primary = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # extended codes keep it low
        return primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(exc, psycopg.OperationalError):
        state = exc.sqlstate  # None: no answer from a server at all
        return state is None or state.startswith(_UNREACHABLE_STATES)
    return False


@contextmanager
def translating(action: str, url: str) -> Iterator[None]:
    """Turn foreign errors inside the block into ``MetadataError("<action> at <url>: ...")``."""
    try:
        yield
    except _foreign_errors() as exc:
        message = f"{action} at {redact(url)}: {reason(exc, url)}"
        kind = MetadataUnavailableError if unreachable(exc) else MetadataError
        raise kind(message, hint=hint_for(exc, url)) from exc
