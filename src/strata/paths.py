"""Checks for paths that come from files, remotes or the network, which are never trusted;
and the one way small files are written: atomically."""

from __future__ import annotations

import os
import uuid
from pathlib import Path, PurePosixPath


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a
    part: a temp file beside it, fsync, rename."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def unsafe_reason(text: str) -> str | None:
    """Why ``text`` is not a safe relative POSIX path, or None when it is."""
    if not text or any(ord(c) < 0x20 for c in text):
        return "it is empty or holds a control character"
    if "\\" in text:
        return "it holds a backslash"
    if text.startswith("/") or PurePosixPath(text).is_absolute():
        return "it is absolute"
    parts = text.split("/")
    if any(p == ".." for p in parts):
        return "it climbs out with '..'"
    if any(p in ("", ".") for p in parts):
        return "it has an empty or '.' component"
    return None
