"""Packs: many objects and chunks in one remote file, found through an index.

A push writes small objects, the chunks of large ones and chunk manifests one after another
into a pack of about ``PACK_SIZE`` bytes, so 20,000 small files are a few requests and a 4 GiB
file is a few dozen objects rather than thousands. Each pack has an index listing every entry's
hash, offset and size; the pack is named by the BLAKE3 hash of its index, so an index read once
is cached locally for good. On the remote they sit side by side::

    <root>/packs/<name>.pack
    <root>/packs/<name>.idx

The pack is uploaded first and its index last: an entry counts as present only once its index
is there, so a pack cut short by a crash is never referenced (``gc --cloud`` removes such
strays once they are old). Every entry is verified against its hash when it is read, so an
index that lies about an offset is caught as a corrupt object, not trusted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from strata.errors import ObjectCorruptError
from strata.objects.hashing import hash_bytes, is_hash

PACK_SIZE = 128 * 1024 * 1024  # a pack is sealed once it holds this many bytes
RANGE_MAX = 16 * 1024 * 1024  # the most one ranged read of a pack asks for
RANGE_GAP = 256 * 1024  # neighbours this close are read together, the gap discarded
PACK_SUFFIX = ".pack"
INDEX_SUFFIX = ".idx"


@dataclass(frozen=True, slots=True)
class PackEntry:
    """One object, chunk or (``manifest``) chunk manifest in a pack."""

    name: str
    offset: int
    size: int
    manifest: bool = False

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class PackIndex:
    """The entries of one pack, in the order they were written, and the pack's length."""

    entries: tuple[PackEntry, ...]
    size: int

    def to_bytes(self) -> bytes:
        return self._bytes

    @cached_property
    def _bytes(self) -> bytes:
        """The index as stored: JSON, written a row at a time (no list per entry)."""

        def rows(manifest: bool) -> str:
            chosen = (e for e in self.entries if e.manifest == manifest)
            return ",".join(f'["{e.name}",{e.offset},{e.size}]' for e in chosen)

        head = f'{{"format":1,"size":{self.size},"objects":['
        return f'{head}{rows(False)}],"manifests":[{rows(True)}]}}'.encode()

    @cached_property
    def name(self) -> str:
        """The pack's name: the hash of its index."""
        return hash_bytes(self._bytes)

    @classmethod
    def from_bytes(cls, data: bytes, *, what: str) -> PackIndex:
        """Parse an index read from a remote, refusing entries outside the pack."""
        try:
            doc = json.loads(data)
            size = int(doc["size"])
            entries = [PackEntry(str(h), int(o), int(s)) for h, o, s in doc["objects"]]
            entries += [PackEntry(str(h), int(o), int(s), True) for h, o, s in doc["manifests"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ObjectCorruptError(f"the index of {what} is malformed") from exc
        for e in entries:
            if not is_hash(e.name) or e.offset < 0 or e.size < 0 or e.end > size:
                raise ObjectCorruptError(
                    f"the index of {what} names an entry outside the pack ({e.name[:12]})"
                )
        entries.sort(key=lambda e: e.offset)
        return cls(tuple(entries), size)


class PackBuilder:
    """The index of one pack being written: where each entry appended goes."""

    def __init__(self) -> None:
        self._entries: list[PackEntry] = []
        self.size = 0

    def add(self, name: str, size: int, *, manifest: bool = False) -> None:
        self._entries.append(PackEntry(name, self.size, size, manifest))
        self.size += size

    def index(self) -> PackIndex:
        return PackIndex(tuple(self._entries), self.size)


@dataclass(frozen=True, slots=True)
class Located:
    """Where a packed entry lives: its pack's name and the entry."""

    pack: str
    entry: PackEntry


@dataclass
class RangeRead:
    """One read of ``[start, end)`` of a pack that yields the bytes of several entries."""

    pack: str
    start: int
    end: int
    parts: list[PackEntry] = field(default_factory=list)

    def split(self, data: bytes) -> Iterator[tuple[PackEntry, bytes]]:
        """Each entry's bytes out of what the read returned (short data gives short entries,
        which then fail their hash check)."""
        for e in self.parts:
            yield e, data[e.offset - self.start : e.end - self.start]


def plan_reads(
    wanted: Iterable[Located | str], *, gap: int = RANGE_GAP, limit: int = RANGE_MAX
) -> list[RangeRead | str]:
    """Reads that cover ``wanted`` in its order: consecutive entries of the same pack that lie
    close together share one read of at most ``limit`` bytes (unless one entry is larger by
    itself); a name (a loose object) is a read of its own."""
    reads: list[RangeRead | str] = []
    for where in wanted:
        if isinstance(where, str):
            reads.append(where)
            continue
        e = where.entry
        last = reads[-1] if reads else None
        if (
            isinstance(last, RangeRead)
            and last.pack == where.pack
            and last.end <= e.offset <= last.end + gap
            and e.end - last.start <= limit
        ):
            last.end = e.end
            last.parts.append(e)
        else:
            reads.append(RangeRead(where.pack, e.offset, e.end, [e]))
    return reads


def in_pack_order(names: Sequence[str], located: dict[str, Located]) -> list[str]:
    """``names`` sorted so that entries of one pack come together, by offset (loose objects,
    not in ``located``, last)."""

    def key(name: str) -> tuple[int, str, int]:
        where = located.get(name)
        if where is None:
            return (1, name, 0)
        return (0, where.pack, where.entry.offset)

    return sorted(names, key=key)
