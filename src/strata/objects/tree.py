"""A directory's listing as one object: every file's relative path, hash and size.

The serialised form is canonical (sorted, compact JSON), so equal directories get equal hashes
and a status check can compare one hash instead of twenty thousand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from strata.errors import ObjectCorruptError
from strata.objects.hashing import hash_bytes, is_hash
from strata.paths import unsafe_reason

# A relative path of plain components: no '.', '..', empty parts, backslash or NUL. Any other
# character a file name can hold (a tab, a newline) is kept: JSON escapes it.
_SAFE_ENTRY = re.compile(r"(?!\.\.?(?:/|$))[^/\\\x00]+(?:/(?!\.\.?(?:/|$))[^/\\\x00]+)*")
_HASH = re.compile(r"[0-9a-f]{64}")
_ROW_END = re.compile(rb'","([0-9a-f]{64})",\d+\]')
_TREE_START = b'{"format":1,"files":[["'


@dataclass(frozen=True, slots=True)
class TreeEntry:
    path: str
    hash: str
    size: int

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "hash": self.hash, "size": self.size}


@dataclass(frozen=True, slots=True)
class Tree:
    entries: tuple[TreeEntry, ...]

    @classmethod
    def build(cls, entries: Iterable[TreeEntry]) -> Tree:
        return cls(tuple(sorted(entries, key=lambda e: e.path)))

    def to_bytes(self) -> bytes:
        rows = [[e.path, e.hash, e.size] for e in self.entries]
        return json.dumps({"format": 1, "files": rows}, separators=(",", ":")).encode()

    @property
    def hash(self) -> str:
        return hash_bytes(self.to_bytes())

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    def by_path(self) -> Mapping[str, TreeEntry]:
        return {e.path: e for e in self.entries}

    @classmethod
    def hashes_in(cls, data: bytes, *, what: str) -> list[str]:
        """The hashes a stored tree lists, without building its entries (a folder of
        200,000 files would otherwise hold them all at once). In the compact form Strata
        writes, every row ends ``","<hash>",<size>]``, which a JSON string cannot contain
        unescaped; when the rows found do not match the row separators (a path holding
        ``],[``, or another layout), the tree is parsed whole."""
        found = [m.decode() for m in _ROW_END.findall(data)]
        if found and len(found) == data.count(b"],[") + 1 and data.startswith(_TREE_START):
            return found
        return [e.hash for e in cls.from_bytes(data, what=what).entries]

    @classmethod
    def from_bytes(cls, data: bytes, *, what: str) -> Tree:
        """Parse a stored tree, refusing malformed rows and unsafe paths."""
        try:
            rows = json.loads(data)["files"]
            entries = [TreeEntry(str(p), str(h), int(s)) for p, h, s in rows]
        except (ValueError, KeyError, TypeError) as exc:
            raise ObjectCorruptError(f"directory listing for {what} is malformed") from exc
        del rows  # the parsed rows go before the entries are checked and sorted: less at once
        for entry in entries:
            if (
                _SAFE_ENTRY.fullmatch(entry.path)
                and _HASH.fullmatch(entry.hash)
                and entry.size >= 0
            ):
                continue  # the common case, checked fast; the slow path explains the rest
            reason = unsafe_reason(entry.path, any_name=True)
            if reason or not is_hash(entry.hash) or entry.size < 0:
                raise ObjectCorruptError(
                    f"directory listing for {what} names a bad entry {entry.path!r}"
                    + (f" ({reason})" if reason else "")
                )
        entries.sort(key=lambda e: e.path)  # stored sorted: one pass that moves nothing
        return cls(tuple(entries))
