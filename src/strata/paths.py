"""Checks for paths that come from files, remotes or the network, which are never trusted."""

from __future__ import annotations

from pathlib import PurePosixPath


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
