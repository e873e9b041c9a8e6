"""Database URLs: which backends are accepted, and how a URL is shown without its password."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strata.config import redact
from strata.errors import MetadataError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

URL_HINT = "write it as sqlite:///ABS/PATH/strata.db or postgresql://USER@HOST:PORT/DBNAME"
__all__ = ["URL_HINT", "parse", "redact"]


def parse(url: str) -> URL:
    """Parse a metadata URL; ``postgresql://`` without a driver means psycopg 3.

    Raises SQLAlchemy's ArgumentError for text that is no URL (callers translate it), and
    MetadataError for a backend Strata does not support.
    """
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise MetadataError(
            f"unsupported metadata database {redact(url)}: only SQLite and PostgreSQL are",
            hint=URL_HINT,
        )
    return parsed
