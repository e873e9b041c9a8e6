"""Value objects stored in the metadata database, and the checks they pass before a write."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from strata.errors import MetadataError

Kind = Literal["file", "directory"]
KINDS: tuple[Kind, ...] = ("file", "directory")
_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class FileVersion:
    """One version of a tracked workspace path: its BLAKE3 content hash and size.

    ``path`` is workspace-relative and POSIX (``data/raw/x.parquet``); ``files`` is the number
    of files (1 for a file). ``recorded_at`` is UTC; when None on write, the time of the write.
    """

    path: str
    hash: str
    kind: Kind
    size: int
    files: int
    recorded_at: datetime | None = None


def as_kind(value: str) -> Kind:
    """``value`` as a ``Kind``; MetadataError when it is neither."""
    for kind in KINDS:
        if value == kind:
            return kind
    raise MetadataError(f"unknown file version kind {value!r}", hint="use 'file' or 'directory'")


def _path_problem(path: str) -> str | None:
    if not path or path.startswith("/") or "\\" in path or "\0" in path:
        return "it must be a non-empty relative POSIX path"
    if any(part in {"", ".", ".."} for part in path.split("/")):
        return "it must not contain empty, '.' or '..' parts"
    return None


def _problem(version: FileVersion) -> str | None:
    if (reason := _path_problem(version.path)) is not None:
        return f"bad path: {reason}"
    if not _HASH.fullmatch(version.hash):
        return "bad hash: expected 64 lowercase hex digits (BLAKE3)"
    if version.kind not in KINDS:
        return f"bad kind {version.kind!r}: expected 'file' or 'directory'"
    if version.size < 0 or version.files < 0:
        return "size and files must not be negative"
    if version.kind == "file" and version.files != 1:
        return "a file version counts exactly 1 file"
    if version.recorded_at is not None and version.recorded_at.tzinfo is None:
        return "recorded_at must be timezone-aware"
    return None


def check_file_version(version: FileVersion) -> None:
    """Raise MetadataError naming the path when ``version`` cannot be stored as it is."""
    if (reason := _problem(version)) is not None:
        raise MetadataError(
            f"cannot record file version of {version.path!r}: {reason}",
            hint="this is a bug in the caller; please report it",
        )
