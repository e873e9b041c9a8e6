"""Content-defined chunking (FastCDC) of large objects for remotes, and chunk manifests.

A file that changes a little keeps most of its chunk boundaries, so a new version shares most
chunks with the old one: a push sends, and the remote stores, only the new chunks. The
manifest lists an object's chunks in order; it is stored on the remote under the object's own
hash, beside the chunks, and is written last, so an object counts as present only once every
chunk is there.
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass

from strata.errors import ObjectCorruptError
from strata.objects.hashing import hash_bytes, is_hash

MIN_CHUNK = 256 * 1024
AVG_CHUNK = 1024 * 1024
MAX_CHUNK = 4 * 1024 * 1024
DEFAULT_THRESHOLD = 4 * 1024 * 1024  # objects this large and larger are chunked
WINDOW = 4 * MAX_CHUNK  # chunks are cut from a window of a file this long (and MAX_CHUNK more)
READ_AHEAD = 2  # windows mapped ahead of the one being cut
# A window's pages are mapped in one go (Linux) rather than one fault at a time.
_MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
HASH_AHEAD = 8  # chunks hashed at once, on threads


@dataclass(frozen=True, slots=True)
class Chunk:
    hash: str
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    size: int
    chunks: tuple[Chunk, ...]

    def to_bytes(self) -> bytes:
        rows = [[c.hash, c.size] for c in self.chunks]
        return json.dumps({"format": 1, "size": self.size, "chunks": rows}).encode()

    @classmethod
    def from_bytes(cls, data: bytes, *, what: str) -> Manifest:
        """Parse a manifest from a remote, refusing anything malformed."""
        try:
            doc = json.loads(data)
            chunks = tuple(Chunk(str(h), int(s)) for h, s in doc["chunks"])
            size = int(doc["size"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ObjectCorruptError(f"the chunk manifest of {what} is malformed") from exc
        if (
            any(not is_hash(c.hash) or c.size <= 0 for c in chunks)
            or sum(c.size for c in chunks) != size
        ):
            raise ObjectCorruptError(f"the chunk manifest of {what} does not add up")
        return cls(size, chunks)


def split(path: str | os.PathLike[str]) -> Iterator[tuple[Chunk, memoryview]]:
    """The chunks of a file, in order, with their bytes, read through windows of a fixed size
    (never the whole file mapped, whatever its size).

    Three things overlap: the file is read a window ahead on threads, cut into chunks on the
    calling thread (FastCDC holds the GIL), and each chunk is hashed on a thread (BLAKE3 lets
    go of it). A chunk's bytes are a view of its window, valid for as long as it is held."""
    from strata.parallel import in_order

    return in_order(_hashed, _pieces(path), HASH_AHEAD)


def _hashed(piece: memoryview) -> tuple[Chunk, memoryview]:
    return Chunk(hash_bytes(piece), len(piece)), piece


def _pieces(path: str | os.PathLike[str]) -> Iterator[memoryview]:
    """The file cut into chunks, exactly as FastCDC cuts it whole.

    The file is mapped a window at a time, each mapped (its pages brought in) on a thread
    ahead of the one being cut. FastCDC finds a chunk's end from at most MAX_CHUNK bytes after
    its start, so a window reaches MAX_CHUNK bytes past the next window's start, and a chunk is
    cut only once that many bytes past its start are in view (or the file ends there): every
    chunk starting up to the next window's start is cut, and the last one cut ends within
    MAX_CHUNK bytes past it, where cutting goes on in the next window."""
    from fastcdc import fastcdc

    from strata.parallel import in_order

    with open(path, "rb", buffering=0) as source:
        fd = source.fileno()
        size = os.fstat(fd).st_size
        if size == 0:
            return
        starts = iter(range(0, size, WINDOW))
        windows = in_order(lambda start: _map_window(fd, start, size), starts, READ_AHEAD)
        cut_to = 0  # where the last chunk cut ended: the file's offset chunks go on from
        for base, window in windows:
            view = memoryview(window)[cut_to - base :]
            at_end = base + len(window) == size
            pieces = fastcdc(view, min_size=MIN_CHUNK, avg_size=AVG_CHUNK, max_size=MAX_CHUNK)
            for piece in pieces:
                if not at_end and piece.offset + MAX_CHUNK > len(view):
                    break  # its end may lie beyond this window: cut it in the next
                yield view[piece.offset : piece.offset + piece.length]
                cut_to += piece.length


def _map_window(fd: int, start: int, size: int) -> tuple[int, mmap.mmap]:
    """The file's bytes from ``start`` (a multiple of WINDOW) for WINDOW bytes and MAX_CHUNK
    more, or to its end, mapped with their pages brought in; and ``start``."""
    length = min(start + WINDOW + MAX_CHUNK, size) - start
    return start, mmap.mmap(fd, length, _MAP_FLAGS, mmap.PROT_READ, offset=start)
