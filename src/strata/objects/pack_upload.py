"""Sending objects to a remote as packs, in one pass over each file.

Small objects are appended to the pack being written whole; a large one is cut into chunks
as it is read (hashing each chunk on the way), the chunks the remote lacks are appended, then
its manifest. A pack is sealed at the remote's ``pack_size`` and uploaded on a thread while
the next one fills. Indexes are published strictly in the order the packs were sealed, so a
manifest (always in the pack of its last new chunk or a later one) never counts before its
chunks do; a push cut short leaves only complete packs with indexes, or packs no index names.
"""

from __future__ import annotations

import errno
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from strata.errors import DiskFullError, StorageError
from strata.objects.chunks import Chunk, Manifest, split
from strata.objects.packs import PackBuilder, PackIndex
from strata.objects.remote import Remote
from strata.parallel import check_cancelled, in_order

READ_AHEAD = 16  # small files read ahead of the pack writer
WRITE_AHEAD = 8  # writes waiting for the pack writer, at most
# Entries smaller than GATHER_BELOW are gathered into writes of about GATHERED_WRITE bytes.
GATHER_BELOW = 64 * 1024
GATHERED_WRITE = 1024 * 1024


class _LocalReadError(Exception):
    def __init__(self, cause: OSError) -> None:
        self.cause = cause


def _split_local(path: str) -> Iterator[tuple[Chunk, memoryview]]:
    """The chunks of a cached file; a failure to read it is told from one to write a pack."""
    chunks = split(path)
    while True:
        try:
            item = next(chunks)
        except StopIteration:
            return
        except OSError as exc:
            raise _LocalReadError(exc) from exc
        yield item


@dataclass
class _Sealed:
    index: PackIndex
    written: Path  # the pack file until its upload takes it
    done: list[str]  # the objects complete once this pack's index is published
    upload: Future[None]


@dataclass
class UploadOutcome:
    """What a pack upload sent: objects now on the remote, and bytes put into packs."""

    sent: list[str] = field(default_factory=list)
    bytes: int = 0
    packs: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (object, why) not read here


class PackUpload:
    """Objects going to ``remote`` as packs; ``present`` names what the remote already has
    (and learns what this upload adds). Use as a context manager: leaving it with an error
    removes any pack file not yet uploaded."""

    def __init__(
        self,
        remote: Remote,
        present: set[str],
        *,
        spool: Path,
        jobs: int = 4,
        on_sent: Callable[[int, int], None] = lambda objects, nbytes: None,
    ) -> None:
        self._remote = remote
        self._present = present
        self._spool = spool
        self._limit = remote.pack_size
        # Packs uploading at once; an object store's client holds a few blocks of each.
        self._uploads = max(1, min(jobs, 4 if remote.is_local else 2))
        self._pool = ThreadPoolExecutor(self._uploads)
        # Bytes go into the pack file on a thread of their own, in order, so that cutting
        # the next chunks (which holds the GIL) overlaps writing the last ones.
        self._writer = ThreadPoolExecutor(1)
        self._writes: deque[Future[int]] = deque()
        self._gathered = bytearray()  # small entries not handed to the writer yet
        self._sealed: deque[_Sealed] = deque()
        self._on_sent = on_sent  # objects and bytes packed, as they are
        self._file: Path | None = None
        self._out: BinaryIO | None = None
        self._pack: PackBuilder | None = None
        self._done_here: list[str] = []
        self.outcome = UploadOutcome()

    def __enter__(self) -> PackUpload:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self._finish()
        finally:
            self._discard()

    # -- adding ---------------------------------------------------------------------------
    def add_files(
        self, small: Sequence[str], large: Sequence[str], path_of: Callable[[str], str]
    ) -> None:
        """Send objects from local files (``path_of`` a name): the small ones whole, read
        ahead on threads, then the large ones in chunks."""

        def read(name: str) -> tuple[str, bytes | OSError]:
            try:
                with open(path_of(name), "rb") as fh:
                    return name, fh.read()
            except OSError as exc:
                return name, exc

        for name, data in in_order(read, iter(small), READ_AHEAD):
            check_cancelled()
            if isinstance(data, OSError):
                self._unreadable(name, data)
                continue
            self._append(name, data)
            self._object_done(name, len(data))
        for name in large:
            check_cancelled()
            try:
                self._add_chunked(name, path_of(name))
            except _LocalReadError as exc:
                self._unreadable(name, exc.cause)

    def _unreadable(self, name: str, exc: OSError) -> None:
        self.outcome.failed.append((name, f"cannot read it in the local cache: {exc.strerror}"))

    def add_bytes(self, name: str, data: bytes, *, manifest: bool = False) -> None:
        """Send one entry from memory: a plain object or chunk, or with ``manifest`` the
        chunk manifest of object ``name`` (whose chunks must be present already)."""
        self._append(name, data, manifest=manifest)
        self._object_done(name, len(data))

    def _add_chunked(self, name: str, path: str) -> None:
        chunks: list[Chunk] = []
        for chunk, data in _split_local(path):
            chunks.append(chunk)
            if chunk.hash not in self._present:
                self._append(chunk.hash, data)
                self._present.add(chunk.hash)
            self._on_sent(0, chunk.size)
        manifest = Manifest(sum(c.size for c in chunks), tuple(chunks)).to_bytes()
        self._append(name, manifest, manifest=True)
        self._object_done(name, 0)

    def _object_done(self, name: str, nbytes: int) -> None:
        self._present.add(name)
        self._done_here.append(name)
        self._on_sent(1, nbytes)

    def _append(self, name: str, data: bytes | memoryview, *, manifest: bool = False) -> None:
        if self._pack is None or self._out is None:
            self._file = self._remote.new_pack_file(self._spool)
            self._out = open(self._file, "xb")  # noqa: SIM115 - closed when sealed
            self._pack = PackBuilder()
        self._pack.add(name, len(data), manifest=manifest)
        if len(data) < GATHER_BELOW:
            self._gathered += data
            if len(self._gathered) >= GATHERED_WRITE:
                self._write_gathered()
        else:
            self._write_gathered()
            self._write(data)
        self.outcome.bytes += len(data)
        if self._pack.size >= self._limit:
            self._seal()

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        """Hand ``data`` to the writer; wait while WRITE_AHEAD writes are waiting."""
        assert self._out is not None
        self._writes.append(self._writer.submit(self._out.write, data))
        self._settle_writes(len(self._writes) - WRITE_AHEAD)

    def _write_gathered(self) -> None:
        if self._gathered:
            self._write(self._gathered)
            self._gathered = bytearray()

    def _settle_writes(self, at_least: int) -> None:
        """Wait for the oldest ``at_least`` pending writes (and take any finished one), so a
        write's failure is raised here."""
        while self._writes and (at_least > 0 or self._writes[0].done()):
            try:
                self._writes.popleft().result()
            except OSError as exc:
                raise self._write_failure(exc) from exc
            at_least -= 1

    def _write_failure(self, exc: OSError) -> StorageError:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT) and not self._remote.is_local:
            return DiskFullError(
                f"disk full while writing a pack for remote {self._remote.name!r} in {self._spool}",
                hint="free space on this disk, then push again",
            )
        return self._remote.failure(exc, "write a pack")

    # -- sealing and publishing -----------------------------------------------------------
    def _seal(self) -> None:
        """Close the pack being written and start its upload; publish what is uploaded."""
        pack, out, written = self._pack, self._out, self._file
        if pack is None or out is None or written is None:
            return
        self._write_gathered()
        self._settle_writes(len(self._writes))
        self._pack = self._out = self._file = None
        try:
            out.close()
        except OSError as exc:
            written.unlink(missing_ok=True)
            raise self._write_failure(exc) from exc
        index = pack.index()
        upload = self._pool.submit(self._remote.upload_pack, written, index)
        self._sealed.append(_Sealed(index, written, self._done_here, upload))
        self._done_here = []
        self._publish(wait=len(self._sealed) > self._uploads)

    def _publish(self, *, wait: bool) -> None:
        """Publish the indexes of uploaded packs, oldest first; with ``wait``, wait for the
        oldest upload (which bounds how many sealed packs wait on disk)."""
        while self._sealed and (wait or self._sealed[0].upload.done()):
            sealed = self._sealed.popleft()
            sealed.upload.result()
            self._remote.publish_index(sealed.index)
            self.outcome.sent += sealed.done
            self.outcome.packs += 1
            wait = False

    def _finish(self) -> None:
        self._seal()
        while self._sealed:
            self._publish(wait=True)

    def _discard(self) -> None:
        """After an error: stop, and remove what was not uploaded."""
        for write in self._writes:
            write.cancel()
        self._writer.shutdown(wait=True)
        self._writes.clear()
        self._gathered = bytearray()
        if self._out is not None:
            self._out.close()
        if self._file is not None:
            self._file.unlink(missing_ok=True)
        for sealed in self._sealed:
            sealed.upload.cancel()
        self._pool.shutdown(wait=True)
        for sealed in self._sealed:
            sealed.written.unlink(missing_ok=True)  # an upload that never started
            self._remote.unstage_index(sealed.index)  # or one whose index never went up
        self._sealed.clear()
