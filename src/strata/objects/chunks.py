"""Content-defined chunking (FastCDC) of large objects for remotes, and chunk manifests.

A file that changes a little keeps most of its chunk boundaries, so a new version shares most
chunks with the old one: a push sends, and the remote stores, only the new chunks. The
manifest lists an object's chunks in order; it is stored on the remote under the object's own
hash, beside the chunks, and is written last, so an object counts as present only once every
chunk is there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

from strata.errors import ObjectCorruptError
from strata.objects.hashing import hash_bytes, is_hash

MIN_CHUNK = 256 * 1024
AVG_CHUNK = 1024 * 1024
MAX_CHUNK = 4 * 1024 * 1024
DEFAULT_THRESHOLD = 4 * 1024 * 1024  # objects this large and larger are chunked
WINDOW = 16 * MAX_CHUNK  # how much of a file is in memory at once while it is chunked


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


def split(path: str | os.PathLike[str]) -> Iterator[tuple[Chunk, bytes]]:
    """The chunks of a file, in order, with their bytes, read through a window of a fixed size
    (never the whole file mapped, whatever its size).

    FastCDC finds a chunk's end from at most MAX_CHUNK bytes after its start, so a chunk is cut
    only once the window holds that many bytes past its start (or the file's end): the
    chunks are exactly those of the whole file chunked at once. What is left at the window's
    end moves to its front and the next read fills the rest."""
    from fastcdc import fastcdc

    window = bytearray(WINDOW + MAX_CHUNK)
    view = memoryview(window)
    held = 0  # bytes at the window's front not yet cut into chunks
    with open(path, "rb", buffering=0) as source:
        at_end = False
        while not at_end:
            while held < len(window) and not at_end:
                read = source.readinto(view[held:])
                at_end = not read
                held += read or 0
            done = 0
            pieces = fastcdc(
                view[:held], min_size=MIN_CHUNK, avg_size=AVG_CHUNK, max_size=MAX_CHUNK
            )
            for piece in pieces:
                if not at_end and piece.offset + MAX_CHUNK > held:
                    break  # its end may lie beyond what the window holds: cut it next time
                data = bytes(view[piece.offset : piece.offset + piece.length])
                yield Chunk(hash_bytes(data), len(data)), data
                done = piece.offset + piece.length
            window[: held - done] = view[done:held]
            held -= done
