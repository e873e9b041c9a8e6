"""The local content-addressed object store (the cache).

Objects live at ``<cache>/<first two hex digits>/<rest>``, named by the BLAKE3 hash of their
contents, read-only. Every write goes to ``<cache>/tmp`` first and is renamed into place, so a
crash leaves either no object or a whole one; reads can verify the hash.
"""

from __future__ import annotations

import errno
import functools
import itertools
import os
import stat
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from strata.config import LinkType
from strata.errors import DiskFullError, ObjectCorruptError, ObjectMissingError, StorageError
from strata.objects.hashing import hash_bytes, hash_file, hash_path, is_hash, spare_cores
from strata.objects.links import ContentMismatch, Linker
from strata.objects.state import FileStat, ObjectStat
from strata.parallel import check_cancelled, parallel_map

_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
STALE_TMP_SECONDS = 3600.0


def translate_os_error(exc: OSError, doing: str) -> StorageError:
    """Turn an OSError into the StorageError the user sees."""
    if exc.errno in _DISK_FULL:
        return DiskFullError(f"disk full while {doing}")
    reason = exc.strerror or str(exc)
    return StorageError(f"cannot finish {doing}: {reason}", hint="check permissions and retry")


@dataclass(frozen=True, slots=True)
class Incoming:
    """A file on its way into the store: its path, hash, stat when hashed, and a name for
    error messages."""

    src: str | Path
    name: str
    hashed: FileStat | None
    what: str


_counter = itertools.count()


def _unique() -> str:
    """A name part no other temp file of this or another process uses."""
    return f"{os.getpid()}-{next(_counter)}"


def _checkout_error(exc: BaseException, name: str, src: str | Path, what: str) -> BaseException:
    """What a failure to place object ``name`` (at ``src`` in the cache) for ``what`` is
    raised as: corrupt, missing, another storage error, or itself (an interrupt)."""
    if isinstance(exc, ContentMismatch):
        return ObjectCorruptError(f"object {name[:12]} for {what} is corrupt in the cache")
    if isinstance(exc, FileNotFoundError) and not os.path.exists(src):
        return ObjectMissingError(f"object {name[:12]} for {what} is not in the cache")
    if isinstance(exc, OSError):
        return translate_os_error(exc, f"checking out {what}")
    return exc


def sync_filesystem(path: Path) -> None:
    """Flush the filesystem holding ``path`` to disk (Linux syncfs; elsewhere a full sync)."""
    syncfs = _find_syncfs()
    fd = os.open(path, os.O_RDONLY)
    try:
        if syncfs is None or syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


@functools.cache
def _find_syncfs() -> Callable[[int], int] | None:
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs: Callable[[int], int] = libc.syncfs
    except (OSError, AttributeError):
        return None
    return syncfs


def _check_unchanged(src: str | Path, hashed: FileStat | None, what: str) -> None:
    """Refuse a file whose stat moved since it was hashed: its hash may not be its content."""
    if hashed is not None and FileStat.of(os.stat(src)) != hashed:
        raise StorageError(
            f"{what} changed while it was being added",
            hint="wait until it is written completely and add it again",
        )


class ObjectStore:
    def __init__(self, root: Path, link_types: Sequence[LinkType] = ("copy",)) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self._root = os.fspath(root)
        self._link_types = tuple(link_types)
        self._linker_in = Linker(self._link_types)
        self._linker_out = Linker(self._link_types)

    # -- naming ---------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        return hash_path(self.root, name)

    def where(self, name: str) -> str:
        """``path(name)`` as a string, without pathlib's cost (many thousands per checkout)."""
        return f"{self._root}/{name[:2]}/{name[2:]}"

    def exists(self, name: str) -> bool:
        return os.path.exists(self.where(name))

    def missing(self, names: Sequence[str]) -> list[str]:
        return [n for n in names if not self.exists(n)]

    def require(self, name: str, what: str) -> Path:
        path = self.path(name)
        if not path.exists():
            raise ObjectMissingError(f"object {name[:12]} for {what} is not in the cache")
        return path

    # -- writing --------------------------------------------------------------------------
    @contextmanager
    def _tmp_path(self) -> Iterator[Path]:
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.tmp_dir / f"{uuid.uuid4().hex}.tmp"
        try:
            yield tmp
        finally:
            tmp.unlink(missing_ok=True)

    def _commit(self, tmp: Path, name: str) -> None:
        os.chmod(tmp, _READ_ONLY)
        final = self.path(name)
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp, final)

    def add_file(
        self, src: Path, name: str, *, hashed: FileStat | None = None, what: str = ""
    ) -> LinkType | None:
        """Store ``src`` under ``name`` (its hash); None when the object was already there."""
        return self.add_files([Incoming(src, name, hashed, what or str(src))])[0]

    def add_files(self, files: Sequence[Incoming], jobs: int = 1) -> list[LinkType | None]:
        """Store many files; for each, the link type used, or None when it was there already.

        Each file is placed under a temp name first (linked or copied); copies are then made
        durable by one sync of the cache's filesystem rather than one fsync per file; only
        then is each renamed to its hash. A file whose stat differs from ``hashed`` (it
        changed since it was hashed) stops the whole batch before anything is renamed. With a
        hardlink the workspace file and the object share one inode, so both become read-only:
        an edit in place would otherwise change the cached version.
        """
        todo = {f.name: f for f in files if not self.exists(f.name)}
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        temps = {name: self.tmp_dir / f"{uuid.uuid4().hex}.tmp" for name in todo}
        placed: dict[str, LinkType] = {}

        def place(incoming: Incoming) -> None:
            try:
                placed[incoming.name] = self._linker_in.place(
                    incoming.src, temps[incoming.name], durable=False
                )
                _check_unchanged(incoming.src, incoming.hashed, incoming.what)
            except OSError as exc:
                raise translate_os_error(exc, f"storing {incoming.what} in the cache") from exc

        try:
            parallel_map(place, list(todo.values()), jobs)
            if any(link != "hardlink" for link in placed.values()):
                sync_filesystem(self.tmp_dir)
            for name in todo:
                check_cancelled()
                self._commit(temps.pop(name), name)
        except OSError as exc:
            raise translate_os_error(exc, "storing files in the cache") from exc
        finally:
            for tmp in temps.values():  # only the ones not committed
                tmp.unlink(missing_ok=True)
        return [placed.get(f.name) if f.name in todo else None for f in files]

    def add_file_hashing(
        self, src: Path, hashed: FileStat, *, what: str
    ) -> tuple[str, LinkType | None]:
        """Hash a large file while it is copied or linked into the cache, in one go.

        Returns its hash and the link type used (None when the object was there already).
        The copy runs in the kernel on one thread, written to disk behind it as it goes
        and fsynced there, while BLAKE3 hashes on the other cores: a big file costs about
        one read, and the disk's work overlaps the copy instead of following it.
        """
        try:
            from concurrent.futures import ThreadPoolExecutor

            with self._tmp_path() as tmp, ThreadPoolExecutor(1) as pool:
                placing = pool.submit(self._linker_in.place, src, tmp, durable=True)
                name = hash_file(src, hashed.size, threads=spare_cores())
                link_type = placing.result()
                if self.exists(name):
                    return name, None
                _check_unchanged(src, hashed, what)
                self._commit(tmp, name)
                return name, link_type
        except OSError as exc:
            raise translate_os_error(exc, f"storing {what} in the cache") from exc

    def add_bytes(self, data: bytes, *, what: str = "") -> str:
        name = hash_bytes(data)
        if self.exists(name):
            return name
        try:
            with self._tmp_path() as tmp:
                with open(tmp, "xb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                self._commit(tmp, name)
        except OSError as exc:
            raise translate_os_error(exc, f"storing {what or 'metadata'} in the cache") from exc
        return name

    # -- reading --------------------------------------------------------------------------
    def read_bytes(self, name: str, *, what: str, verify: bool = True) -> bytes:
        data = self.require(name, what).read_bytes()
        if verify and hash_bytes(data) != name:
            raise ObjectCorruptError(f"object {name[:12]} for {what} is corrupt")
        return data

    def checkout(self, name: str, dst: Path, *, what: str) -> LinkType:
        """Make ``dst`` hold object ``name``, linked or copied beside it and renamed over it,
        so ``dst`` is never seen half-written. The caller verifies objects beforehand
        (``strata.files.scan.verify_objects``); this only places them."""
        src = self.path(name)
        tmp = dst.with_name(f".{dst.name}.{_unique()}.strata-tmp")
        try:
            link_type = self._linker_out.place(src, tmp, durable=False)
            os.replace(tmp, dst)
            return link_type
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            error = _checkout_error(exc, name, src, what)
            if error is exc:
                raise
            raise error from exc

    def stage(
        self, name: str, dst: str, *, what: str, trusted: ObjectStat | None = None
    ) -> tuple[str, FileStat, ObjectStat | None]:
        """Object ``name``, verified, in a new temp file beside ``dst`` (which is left alone):
        the temp file, then as ``place_verified``."""
        head, tail = os.path.split(dst)
        tmp = f"{head}/.{tail}.{_unique()}.strata-tmp"
        return (tmp, *self.place_verified(name, tmp, what=what, trusted=trusted))

    def place_verified(
        self, name: str, dst: str, *, what: str, trusted: ObjectStat | None = None
    ) -> tuple[FileStat, ObjectStat | None]:
        """Create ``dst`` (which must not exist) holding object ``name``, verified: its stat,
        and the object's stat when its bytes were hashed here, for the state cache to vouch
        for next time. An object whose stat is still ``trusted`` (verified before, untouched
        since) is not hashed again. A copy reads the object once: one open of the object, one
        of the file written. ObjectCorruptError when the bytes are not the object's, with
        ``dst`` removed."""
        src = self.where(name)
        try:
            vouched = None if trusted is None else trusted.matches
            _, placed = self._linker_out.place_checked(
                src, dst, durable=False, expect=name, trusted=vouched
            )
            fresh = ObjectStat.of(placed.source) if placed.hashed else None
            return FileStat.of(placed.target), fresh
        except BaseException as exc:
            if not isinstance(exc, FileExistsError):
                Path(dst).unlink(missing_ok=True)
            error = _checkout_error(exc, name, src, what)
            if error is exc:
                raise
            raise error from exc

    def is_intact(self, name: str) -> bool:
        """Re-hash one object; False when its contents no longer match its name."""
        try:
            return hash_file(self.path(name)) == name
        except FileNotFoundError:
            return False

    # -- listing and removing -------------------------------------------------------------
    def names(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for shard in sorted(os.scandir(self.root), key=lambda e: e.name):
            if len(shard.name) != 2 or not shard.is_dir():
                continue
            for entry in os.scandir(shard.path):
                name = shard.name + entry.name
                if is_hash(name):
                    yield name

    def size(self, name: str) -> int:
        return os.stat(self.path(name)).st_size

    def remove(self, name: str) -> None:
        try:
            self.path(name).unlink(missing_ok=True)
        except OSError as exc:
            raise translate_os_error(exc, f"removing object {name[:12]}") from exc

    def clean_tmp(self, older_than: float = STALE_TMP_SECONDS) -> int:
        """Remove temp files left by interrupted writes; returns how many."""
        if not self.tmp_dir.is_dir():
            return 0
        cutoff = time.time() - older_than
        removed = 0
        for entry in os.scandir(self.tmp_dir):
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        return removed
