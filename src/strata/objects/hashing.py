"""BLAKE3 content hashes: hex digests of files and bytes."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import blake3

HASH_NAME = "blake3"
HASH_HEX_LEN = 64
# Below this size one thread is faster than handing work to blake3's thread pool.
MULTITHREAD_MIN_SIZE = 4 * 1024 * 1024
_SMALL_READ = 1024 * 1024
_MAPPED_WINDOW = 64 * 1024 * 1024  # how much of a large file is mapped at once while hashed
# Each window's pages are mapped in one go (Linux) rather than one fault at a time.
_MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)


def hash_bytes(data: bytes | bytearray | memoryview) -> str:
    return str(blake3.blake3(data).hexdigest())


def hasher_for(size: int) -> blake3.blake3:
    """A BLAKE3 hasher for ``size`` bytes: on all cores from MULTITHREAD_MIN_SIZE."""
    if size >= MULTITHREAD_MIN_SIZE:
        return blake3.blake3(max_threads=blake3.blake3.AUTO)
    return blake3.blake3()


def hash_file(
    path: str | os.PathLike[str], size: int | None = None, *, threads: int | None = None
) -> str:
    """Hash a file's contents (see ``hash_fd``)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return hash_fd(fd, os.fstat(fd).st_size if size is None else size, threads=threads)
    finally:
        os.close(fd)


def spare_cores() -> int:
    """How many threads to hash on while one other thread is busy (copying): at least one."""
    return max(1, (os.cpu_count() or 1) - 1)


def hash_fd(fd: int, size: int, *, threads: int | None = None) -> str:
    """Hash an open file's contents, leaving its offset alone; a large one on ``threads``
    threads (default: all cores), mapped a window at a time: as fast as mapping it whole,
    but the mapped pages that count against the process's memory stay within one window,
    whatever the file's size."""
    if size < MULTITHREAD_MIN_SIZE:
        hasher = blake3.blake3()
        offset = 0
        while chunk := os.pread(fd, _SMALL_READ, offset):
            hasher.update(chunk)
            offset += len(chunk)
        return str(hasher.hexdigest())
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO if threads is None else threads)
    length, offset = os.fstat(fd).st_size, 0
    while offset < length:
        span = min(_MAPPED_WINDOW, length - offset)
        with mmap.mmap(fd, span, _MAP_FLAGS, mmap.PROT_READ, offset=offset) as window:
            hasher.update(window)
        offset += span
    return str(hasher.hexdigest())


def is_hash(text: str) -> bool:
    return len(text) == HASH_HEX_LEN and all(c in "0123456789abcdef" for c in text)


def hash_path(root: Path, name: str) -> Path:
    """Where an object lives: sharded by the first two hex digits."""
    return root / name[:2] / name[2:]
