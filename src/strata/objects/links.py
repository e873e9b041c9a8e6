"""Placing a file at a new path by reflink, hardlink or copy, whichever works first; and
writing one from pieces, hashed on the way."""

from __future__ import annotations

import errno
import fcntl
import functools
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import blake3

from strata.config import LinkType
from strata.objects.hashing import hash_fd, hash_file, hasher_for

# From this size a verified copy hashes the source, then copies it in the kernel
# (copy_file_range); below it, the bytes are read once, hashed and written.
KERNEL_COPY_MIN_SIZE = 1024 * 1024
# A durable copy is made this much at a time, each piece handed to the disk as soon as it is
# written, so that the disk works while the rest is copied and the final fsync waits for
# the last piece only.
WRITE_BEHIND_WINDOW = 64 * 1024 * 1024
_SYNC_FILE_RANGE_WRITE = 2  # Linux: start writing the range's dirty pages, do not wait
HASH_PENDING = 8  # pieces written but not hashed yet, at most (``write_hashing``)

StrPath = str | os.PathLike[str]
# Given a cached object's stat: whether its bytes were verified since and are unchanged.
Trusted = Callable[[os.stat_result], bool]

_FICLONE = 0x40049409  # ioctl number of Linux's FICLONE (reflink a whole file)
# Errors that mean "this link type does not work here": try the next one.
_UNSUPPORTED = {
    errno.EXDEV,
    errno.EOPNOTSUPP,
    errno.ENOTTY,
    errno.EINVAL,
    errno.EPERM,
    errno.EMLINK,
    errno.ENOSYS,
}


class ContentMismatch(ValueError):
    """The bytes placed do not hash to the name they were placed under."""


class Copied(NamedTuple):
    """A file placed from a cached object: the object's stat as read, whether its bytes were
    hashed on the way (and matched), and the new file's stat."""

    source: os.stat_result
    hashed: bool
    target: os.stat_result


def reflink(src: StrPath, dst: Path) -> None:
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        try:
            fcntl.ioctl(fout.fileno(), _FICLONE, fin.fileno())
        except OSError:
            fout.close()
            dst.unlink(missing_ok=True)
            raise


def hardlink(src: StrPath, dst: Path) -> None:
    os.link(src, dst)


def copy_checked(
    src: StrPath,
    dst: StrPath,
    *,
    durable: bool = True,
    expect: str | None = None,
    trusted: Trusted | None = None,
) -> Copied:
    """Copy in the kernel where it can (copy_file_range), else through a buffer; with
    ``expect``, hash the source in the same pass and raise ContentMismatch when it differs,
    unless ``trusted`` (given the source's stat) says its bytes are known to hash to it
    already. With ``durable`` the copy is on disk when this returns: written behind as it
    goes, then fsynced. Returns the stats of the source as read and of the copy as written.

    Raw file descriptors rather than ``open()``: no buffering, no tty probe, no seek, which
    is most of the system calls when checking out thousands of small files. The source is
    opened once, whether it is verified or not; a small one is read once and written once."""
    fin = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    try:
        source = os.fstat(fin)
        size = source.st_size
        hashed = expect is not None and (trusted is None or not trusted(source))
        fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            if size < KERNEL_COPY_MIN_SIZE:
                _copy_small(fin, fout, size, expect if hashed else None)
            else:
                if hashed:
                    _check_hash(hash_fd(fin, size), str(expect))
                _copy_fd(fin, fout, size, write_behind=durable)
            if durable:
                os.fsync(fout)
            return Copied(source, hashed, os.fstat(fout))
        finally:
            os.close(fout)
    finally:
        os.close(fin)


def _check_hash(digest: str, expect: str) -> None:
    if digest != expect:
        raise ContentMismatch(f"content hashes to {digest[:12]}, not {expect[:12]}")


def _copy_small(fin: int, fout: int, size: int, expect: str | None) -> None:
    """Read ``size`` bytes (a small file: one read) and write them out; with ``expect``,
    hash them on the way and raise ContentMismatch when they differ."""
    hasher = hasher_for(0) if expect is not None else None
    left = size
    while left > 0 and (chunk := os.read(fin, left)):
        left -= len(chunk)
        if hasher is not None:
            hasher.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(fout, view) :]
    if hasher is not None and expect is not None:
        _check_hash(str(hasher.hexdigest()), expect)


def _copy_fd(fin: int, fout: int, size: int, *, write_behind: bool = False) -> None:
    """Copy ``size`` bytes; with ``write_behind``, start writing each window to disk once it
    is copied (see ``WRITE_BEHIND_WINDOW``)."""
    window = WRITE_BEHIND_WINDOW if write_behind else 1 << 30
    offset = 0
    try:
        while offset < size:
            done = os.copy_file_range(fin, fout, min(size - offset, window))
            if done == 0:
                break
            if write_behind:
                start_writeback(fout, offset, done)
            offset += done
        return
    except OSError as exc:
        if exc.errno not in _UNSUPPORTED:
            raise
    os.lseek(fin, 0, os.SEEK_SET)
    os.lseek(fout, 0, os.SEEK_SET)
    os.ftruncate(fout, 0)
    while chunk := os.read(fin, 1024 * 1024):
        os.write(fout, chunk)


def write_hashing(pieces: Iterator[bytes], dst: StrPath) -> str:
    """Write ``pieces`` to the file ``dst`` as they come, hashing the whole on a thread of
    its own (BLAKE3 on one core, while the writes go on); the hash. The disk starts writing
    each WRITE_BEHIND_WINDOW as soon as it is written, so a later fdatasync waits for the last
    piece only."""
    from concurrent.futures import Future, ThreadPoolExecutor

    hasher = blake3.blake3()
    hashing = ThreadPoolExecutor(1)
    pending: deque[Future[object]] = deque()
    written = flushed = 0
    try:
        with open(dst, "wb") as out:
            for data in pieces:
                pending.append(hashing.submit(hasher.update, data))
                out.write(data)
                written += len(data)
                if written - flushed >= WRITE_BEHIND_WINDOW:
                    start_writeback(out.fileno(), flushed, written - flushed)
                    flushed = written
                while len(pending) > HASH_PENDING:
                    pending.popleft().result()
        while pending:
            pending.popleft().result()
    finally:
        hashing.shutdown(wait=True, cancel_futures=True)
    return str(hasher.hexdigest())


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Have the kernel start writing a range of a file to disk without waiting for it
    (Linux's sync_file_range); only a head start for a later fsync, so a no-op elsewhere."""
    sync_file_range = _find_sync_file_range()
    if sync_file_range is not None:
        sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


@functools.cache
def _find_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        found = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    found.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    found.restype = ctypes.c_int
    sync_file_range: Callable[[int, int, int, int], int] = found
    return sync_file_range


_LINKERS = {"reflink": reflink, "hardlink": hardlink}


class Linker:
    """Tries link types in order and remembers the first one that works here."""

    def __init__(self, order: Sequence[LinkType]) -> None:
        self._order: list[LinkType] = list(order) or ["copy"]

    def _forget(self, link_type: LinkType) -> None:
        # Threads may race to drop the same type; losing the race is harmless.
        self._order = [t for t in self._order if t != link_type] or ["copy"]

    def _link(self, src: StrPath, dst: StrPath) -> LinkType | None:
        """Link ``dst`` to ``src`` by the first link type that works here; None when the
        next one to try is a copy."""
        for link_type in list(self._order):
            if link_type == "copy":
                return None
            try:
                _LINKERS[link_type](src, Path(dst))
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED or link_type == self._order[-1]:
                    raise
                self._forget(link_type)
                continue
            return link_type
        raise OSError(errno.EOPNOTSUPP, "no configured link type works here")

    def place(
        self, src: StrPath, dst: StrPath, *, durable: bool = True, expect: str | None = None
    ) -> LinkType:
        """Create ``dst`` (which must not exist) with the contents of ``src``, on disk when
        it returns if ``durable`` (a hardlink adds no data to sync); with ``expect``, check
        that they hash to it (a copy hashes as it reads, a link is read once) and raise
        ContentMismatch, ``dst`` left for the caller to remove, if not."""
        return self.place_checked(src, dst, durable=durable, expect=expect)[0]

    def place_checked(
        self,
        src: StrPath,
        dst: StrPath,
        *,
        durable: bool = True,
        expect: str | None = None,
        trusted: Trusted | None = None,
    ) -> tuple[LinkType, Copied]:
        """``place``, with the link type used and the stats of ``src`` and ``dst``; the hash
        check is skipped when ``trusted`` vouches for the source's stat."""
        # Judged before linking: a hardlink changes the object's ctime (its link count).
        linking = trusted is not None and self._order[0] != "copy"
        before = os.stat(src) if linking else None
        link_type = self._link(src, dst)
        if link_type is None:
            copied = copy_checked(src, dst, durable=durable, expect=expect, trusted=trusted)
            return "copy", copied
        if durable and link_type == "reflink":
            _fsync_path(dst)
        hashed = expect is not None and (before is None or trusted is None or not trusted(before))
        if hashed:
            _check_hash(hash_file(dst), str(expect))
        return link_type, Copied(os.stat(src), hashed, os.stat(dst))


def _fsync_path(path: StrPath) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
