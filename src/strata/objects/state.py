"""The state cache: (inode, mtime, size) → hash, so an unchanged file is never hashed twice;
and the stat of every cached object checked against its name, so an object untouched since it
was verified is not hashed again when it is handed out.

It is local to one machine and one checkout, so it lives in its own SQLite file beside the
cache rather than in the shared metadata database.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

_BATCH = 500


class FileStat(NamedTuple):
    inode: int
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileStat:
        return cls(st.st_ino, st.st_mtime_ns, st.st_size)


class ObjectStat(NamedTuple):
    """What a cached object's stat says about its bytes: writing to the file in place changes
    its mtime and ctime (setting the mtime back changes the ctime), replacing it changes the
    inode."""

    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> ObjectStat:
        return cls(st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def matches(self, st: os.stat_result) -> bool:
        """Whether ``st`` is still this stat: the object was not written or replaced since."""
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) == self


class StateCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS state ("
                " inode INTEGER PRIMARY KEY, mtime_ns INTEGER NOT NULL,"
                " size INTEGER NOT NULL, hash TEXT NOT NULL)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS folders ("
                " path TEXT PRIMARY KEY, signature TEXT NOT NULL, hash TEXT NOT NULL)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS verified ("
                " name TEXT PRIMARY KEY, inode INTEGER NOT NULL, size INTEGER NOT NULL,"
                " mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL)"
            )
            self._conn = conn
        return self._conn

    def lookup(self, stats: Sequence[FileStat]) -> dict[FileStat, str]:
        """The known hash of every file whose (inode, mtime, size) is unchanged."""
        found: dict[FileStat, str] = {}
        wanted = {s.inode: s for s in stats}
        inodes = list(wanted)
        db = self._db()
        for start in range(0, len(inodes), _BATCH):
            batch = inodes[start : start + _BATCH]
            marks = ",".join("?" * len(batch))
            rows = db.execute(
                f"SELECT inode, mtime_ns, size, hash FROM state WHERE inode IN ({marks})", batch
            )
            for inode, mtime_ns, size, name in rows:
                st = wanted[inode]
                if st.mtime_ns == mtime_ns and st.size == size:
                    found[st] = name
        return found

    def get(self, st: FileStat) -> str | None:
        return self.lookup([st]).get(st)

    def save(self, entries: Iterable[tuple[FileStat, str]]) -> None:
        rows = [(s.inode, s.mtime_ns, s.size, h) for s, h in entries]
        if not rows:
            return
        db = self._db()
        with db:
            db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?)", rows)

    def folder_hash(self, path: str, signature: str) -> str | None:
        """The listing hash of a folder whose files all kept their (path, inode, mtime,
        size) since it was last hashed, summarised by ``signature``."""
        row = (
            self._db()
            .execute("SELECT hash FROM folders WHERE path = ? AND signature = ?", (path, signature))
            .fetchone()
        )
        return None if row is None else str(row[0])

    def save_folder(self, path: str, signature: str, digest: str) -> None:
        db = self._db()
        with db:
            db.execute("INSERT OR REPLACE INTO folders VALUES (?, ?, ?)", (path, signature, digest))

    def verified(self, names: Sequence[str]) -> dict[str, ObjectStat]:
        """The stat each of ``names`` had when its bytes were last found to match it."""
        found: dict[str, ObjectStat] = {}
        unique = sorted(set(names))
        db = self._db()
        for start in range(0, len(unique), _BATCH):
            batch = unique[start : start + _BATCH]
            marks = ",".join("?" * len(batch))
            rows = db.execute(
                "SELECT name, inode, size, mtime_ns, ctime_ns FROM verified"
                f" WHERE name IN ({marks})",
                batch,
            )
            for name, *st in rows:
                found[name] = ObjectStat(*st)
        return found

    def save_verified(self, entries: Iterable[tuple[str, ObjectStat]]) -> None:
        """Note that each object, with that stat, was hashed and matched its name."""
        rows = [(name, *st) for name, st in entries]
        if not rows:
            return
        db = self._db()
        with db:
            db.executemany("INSERT OR REPLACE INTO verified VALUES (?, ?, ?, ?, ?)", rows)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
