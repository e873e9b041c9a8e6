"""The md5 → BLAKE3 map a DVC migration keeps: ``.strata/dvc-md5.jsonl``, committed, so any
clone can read a pre-migration commit's ``.dvc`` files and dvc.lock as Strata pointers.

One JSON object per line, ``{"md5", "hash", "kind", "size", "files"}``. Lines are appended as
objects arrive (a line is written only after its object is in the cache, so an interrupted
migration never maps to a missing object; a torn last line is skipped, and the next append
starts on a line of its own), and the file is
rewritten sorted and without duplicates at the end, so its git diff stays small.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from strata.config import STRATA_DIR
from strata.objects.hashing import is_hash
from strata.paths import atomic_write

MAP_FILE = "dvc-md5.jsonl"


@dataclass(frozen=True, slots=True)
class Mapped:
    md5: str
    hash: str
    kind: str
    size: int
    files: int

    def to_line(self) -> str:
        doc = {
            "md5": self.md5,
            "hash": self.hash,
            "kind": self.kind,
            "size": self.size,
            "files": self.files,
        }
        return json.dumps(doc, separators=(",", ":")) + "\n"


def _parse(line: str) -> Mapped | None:
    try:
        doc = json.loads(line)
        found = Mapped(
            str(doc["md5"]), str(doc["hash"]), str(doc["kind"]), int(doc["size"]), int(doc["files"])
        )
    except (ValueError, KeyError, TypeError):
        return None
    if not is_hash(found.hash) or found.kind not in ("file", "directory"):
        return None
    return found


def parse_map(text: str) -> dict[str, Mapped]:
    found: dict[str, Mapped] = {}
    for line in text.splitlines():
        mapped = _parse(line)
        if mapped is not None:
            found[mapped.md5] = mapped
    return found


class Md5Map:
    def __init__(self, root: Path) -> None:
        self.path = root / STRATA_DIR / MAP_FILE
        try:
            self._entries = parse_map(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self._entries = {}

    def get(self, md5: str) -> Mapped | None:
        return self._entries.get(md5)

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, entries: Iterable[Mapped]) -> None:
        new = [e for e in entries if self._entries.get(e.md5) != e]
        if not new:
            return
        with open(self.path, "a+b") as fh:
            torn = fh.tell() > 0 and fh.seek(-1, os.SEEK_END) >= 0 and fh.read(1) != b"\n"
            text = ("\n" if torn else "") + "".join(e.to_line() for e in new)
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        self._entries.update((e.md5, e) for e in new)

    def compact(self) -> None:
        """Rewrite sorted by md5, one line each (atomically)."""
        if not self._entries and not self.path.exists():
            return
        text = "".join(self._entries[m].to_line() for m in sorted(self._entries))
        atomic_write(self.path, text.encode("utf-8"))
