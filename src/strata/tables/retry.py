"""Appends and overwrites that a rerun does not repeat.

A write from a file records the file's content hash with its mode in the commit
(``strata.input``). When the command is run again — after an interrupt that came once the
commit had landed, say — and the table's latest commit is that same write by the same user,
nothing is written a second time: the earlier commit is the answer. In-memory data carries no
such key unless the caller gives one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

INPUT_KEY = "strata.input"


class Written(Protocol):
    """What a commit says of the write that made it."""

    @property
    def input(self) -> str | None: ...
    @property
    def user(self) -> str | None: ...


def input_key(data: object, mode: str) -> str | None:
    """``MODE:HASH`` of a file (or a folder of files) given as a path; None for other data."""
    if not isinstance(data, str | os.PathLike):
        return None
    from strata.objects.hashing import hash_bytes, hash_file

    path = Path(data)
    if path.is_file():
        return f"{mode}:{hash_file(path)}"
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        listing = "\n".join(f"{p.relative_to(path).as_posix()}\0{hash_file(p)}" for p in files)
        return f"{mode}:{hash_bytes(listing.encode())}"
    return None  # a missing path is reported by the reader


def is_rerun(latest: Written | None, key: str, user: str) -> bool:
    """Whether ``latest`` is this very write, committed earlier by the same user."""
    return latest is not None and latest.input == key and latest.user == user
