"""Content-defined chunking (FastCDC) of large objects for remotes, and chunk manifests.

A file that changes a little keeps most of its chunk boundaries, so a new version shares most
chunks with the old one: a push sends, and the remote stores, only the new chunks. The
manifest lists an object's chunks in order; it is stored on the remote under the object's own
hash, beside the chunks, and is written last, so an object counts as present only once every
chunk is there.
"""

from __future__ import annotations

import bisect
import itertools
import json
import mmap
import os
import threading
from collections.abc import Generator, Iterator, Sequence
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
PARALLEL_MIN = 64 * 1024 * 1024  # files this large have their second half cut by a thread
RESYNC_WITHIN = 64 * MAX_CHUNK  # past the middle, cutting alone once no boundary matched


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

    The work overlaps: windows of the file are mapped ahead on threads, cut into chunks on the
    calling thread (a large file's second half on another, see ``_pieces``), and each chunk
    is hashed on a thread; FastCDC and BLAKE3 both let go of the GIL. A chunk's bytes are a
    view of its window, valid for as long as it is held."""
    from strata.parallel import in_order

    return in_order(_hashed, _pieces(path), HASH_AHEAD)


def _hashed(piece: memoryview) -> tuple[Chunk, memoryview]:
    return Chunk(hash_bytes(piece), len(piece)), piece


def _pieces(path: str | os.PathLike[str]) -> Iterator[memoryview]:
    """The file cut into chunks, exactly as FastCDC cuts it whole.

    A large file's second half is cut by a thread while this one cuts the first. Where a
    chunk cut here starts at a boundary the thread found, both cut alike from there on
    (cutting depends only on the bytes from a chunk's start), so the rest are the thread's.
    Should the thread fail, or no boundary match, this one cuts on by itself: the chunks are
    the same either way."""
    with open(path, "rb", buffering=0) as source:
        fd = source.fileno()
        size = os.fstat(fd).st_size
        if size == 0:
            return
        half = _HalfCutter.for_file(path, size)
        cuts = _cuts(fd, size, 0)
        try:
            for offset, view in cuts:
                if half is not None and offset >= half.start:
                    rest = half.boundaries_from(offset)
                    if rest:
                        cuts.close()
                        yield from _views(fd, rest)
                        return
                    if offset > half.start + RESYNC_WITHIN:
                        half = None  # cut on alone
                yield view
        finally:
            cuts.close()
            if half is not None:
                half.stop()


def _cuts(fd: int, size: int, start: int) -> Generator[tuple[int, memoryview], None, None]:
    """The chunks of an open file from offset ``start`` (0, or a multiple of WINDOW), with
    where each starts.

    The file is mapped a window at a time, each mapped (its pages brought in) on a thread
    ahead of the one being cut. FastCDC finds a chunk's end from at most MAX_CHUNK bytes after
    its start, so a window reaches MAX_CHUNK bytes past the next window's start, and a chunk is
    cut only once that many bytes past its start are in view (or the file ends there): every
    chunk starting up to the next window's start is cut, and the last one cut ends within
    MAX_CHUNK bytes past it, where cutting goes on in the next window."""
    from pyfastcdc import FastCDC

    from strata.parallel import in_order

    cutter = FastCDC(AVG_CHUNK, min_size=MIN_CHUNK, max_size=MAX_CHUNK)
    starts = iter(range(start, size, WINDOW))
    windows = in_order(lambda base: _map_window(fd, base, size), starts, READ_AHEAD)
    cut_to = start  # where the last chunk cut ended: the file's offset chunks go on from
    for base, window in windows:
        view = memoryview(window)[cut_to - base :]
        at_end = base + len(window) == size
        for piece in cutter.cut_buf(view):
            if not at_end and piece.offset + MAX_CHUNK > len(view):
                break  # its end may lie beyond this window: cut it in the next
            yield cut_to, view[piece.offset : piece.offset + piece.length]
            cut_to += piece.length


def _views(fd: int, boundaries: Sequence[int]) -> Iterator[memoryview]:
    """The bytes between consecutive ``boundaries`` (each chunk at most MAX_CHUNK long), from
    windows mapped ahead on threads as ``_cuts`` maps them."""
    from strata.parallel import in_order

    size = boundaries[-1]
    first = boundaries[0] // WINDOW * WINDOW
    starts = iter(range(first, size, WINDOW))
    windows = in_order(lambda base: _map_window(fd, base, size), starts, READ_AHEAD)
    base, window = next(windows)
    for begin, end in itertools.pairwise(boundaries):
        while begin >= base + WINDOW:
            base, window = next(windows)
        yield memoryview(window)[begin - base : end - base]


class _HalfCutter:
    """A thread cutting a file from its middle to its end, while the caller cuts from its
    start (FastCDC lets go of the GIL while it looks for a cut)."""

    def __init__(self, path: str | os.PathLike[str], start: int, size: int) -> None:
        from strata.parallel import Background

        self.start = start
        self._size = size
        self._stopped = threading.Event()
        self._ends = Background(lambda: _cut_ends(path, start, self._stopped), "half-cutter")
        self._boundaries: list[int] | None = None

    @classmethod
    def for_file(cls, path: str | os.PathLike[str], size: int) -> _HalfCutter | None:
        """One for a file of ``size`` bytes, when it is large enough and a core is spare."""
        if size < PARALLEL_MIN or _cores() < 2:
            return None
        return cls(path, size // 2 // WINDOW * WINDOW, size)

    def boundaries_from(self, offset: int) -> list[int]:
        """The thread's chunk boundaries from ``offset`` to the file's end, if ``offset`` is
        one of them; else (or if the thread failed) none."""
        if self._boundaries is None:
            try:
                found = [self.start, *self._ends.result()]
            except Exception:
                found = []  # the caller cuts on by itself, and meets the same error if real
            steps = [b - a for a, b in itertools.pairwise(found)]
            whole = bool(steps) and found[-1] == self._size
            self._boundaries = found if whole and 0 < min(steps) <= max(steps) <= MAX_CHUNK else []
        position = bisect.bisect_left(self._boundaries, offset)
        if position < len(self._boundaries) - 1 and self._boundaries[position] == offset:
            return self._boundaries[position:]
        return []

    def stop(self) -> None:
        self._stopped.set()
        self._ends.wait()


def _cut_ends(path: str | os.PathLike[str], start: int, stopped: threading.Event) -> list[int]:
    """Where each chunk of file ``path`` ends, cutting from offset ``start``; cut short (and
    so refused) once ``stopped`` is set."""
    ends: list[int] = []
    with open(path, "rb", buffering=0) as source:
        fd = source.fileno()
        for offset, view in _cuts(fd, os.fstat(fd).st_size, start):
            if stopped.is_set():
                break
            ends.append(offset + len(view))
    return ends


def _cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _map_window(fd: int, start: int, size: int) -> tuple[int, mmap.mmap]:
    """The file's bytes from ``start`` (a multiple of WINDOW) for WINDOW bytes and MAX_CHUNK
    more, or to its end, mapped with their pages brought in; and ``start``."""
    length = min(start + WINDOW + MAX_CHUNK, size) - start
    return start, mmap.mmap(fd, length, _MAP_FLAGS, mmap.PROT_READ, offset=start)
