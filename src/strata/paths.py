"""Checks for paths that come from files, remotes or the network, which are never trusted;
and the one way small files are written: atomically."""

from __future__ import annotations

import os
import uuid
from collections.abc import Collection
from pathlib import Path, PurePosixPath


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a
    part: a temp file beside it, fsync (unless not ``durable``: a copy whose loss costs
    nothing), rename."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def unsafe_reason(text: str, *, any_name: bool = False) -> str | None:
    """Why ``text`` is not a safe relative POSIX path, or None when it is.

    Paths in pointer files, refs and .gitignore lines hold no control character. With
    ``any_name`` (a file's path inside a tracked folder, stored as escaped JSON) a name may hold
    any character a POSIX file name can but a NUL, so a tab or a newline is kept; a backslash
    is refused either way, as other systems read it as a separator."""
    if not text or "\0" in text or (not any_name and any(ord(c) < 0x20 for c in text)):
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


def _leaves(real: str, base: str, reserved: Collection[str]) -> bool:
    """True when the resolved path ``real`` is not below ``base``, or is in a reserved folder."""
    if real == base:
        return False
    prefix = base.rstrip(os.sep) + os.sep
    if not real.startswith(prefix):
        return True
    return real[len(prefix) :].split(os.sep, 1)[0] in reserved


def escape_reason(root: Path, rel: str, reserved: Collection[str] = ()) -> str | None:
    """Why ``root/rel`` resolves outside ``root`` or into one of its ``reserved`` folders, every
    symlink on the way followed (the last component's too); None when it stays inside.

    Paths are resolved, not merely checked for symlinks: a symlink that stays inside is
    harmless, and one that leads out is named, so the user knows what to remove."""
    base = os.path.realpath(root)
    if not _leaves(os.path.realpath(os.path.join(root, rel)), base, reserved):
        return None
    parts = rel.split("/")
    for i in range(1, len(parts) + 1):
        sub = "/".join(parts[:i])
        full = os.path.join(root, sub)
        if not os.path.islink(full):
            continue
        real = os.path.realpath(full)
        if _leaves(real, base, reserved):
            where = (
                "out of the workspace"
                if _leaves(real, base, ())
                else "into " + " or ".join(sorted(reserved))
            )
            return f"{sub} is a symlink leading {where} (to {os.readlink(full)})"
    return f"{parts[0]} is Strata's or git's own folder"


def shown(path: str) -> str:
    """``path`` for a one-line message: control characters and undecodable bytes escaped as
    in a Python string, so a name holding a newline stays on one line."""
    return path if path.isprintable() else repr(path)[1:-1]
