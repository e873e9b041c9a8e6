"""The text of a format library's error (deltalake, pyiceberg, pyarrow) as Strata quotes it
in its own one-line messages."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of a format library's error, for a one-line message."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
