"""New objects entering the cache in batches: each written to a temp file of the cache, then
the whole batch made durable by one barrier (one fdatasync for one file, one syncfs for
several) and each renamed to its hash. A crash before the renames leaves only temp files
(``clean_tmp`` removes them); no object is seen under its name before its bytes are on disk,
and what is not committed when the block ends is removed.

Two kinds of batch share that ending:

- ``deposits``: objects whose name is learnt as they are written (a model's artifact files,
  each hashed on its way in, its source read once); the caller commits, e.g. just before a
  metadata transaction that needs the names::

      with deposits(store) as batch:
          name = batch.put_file(path, stat, what="model.bin")
          tree = batch.put_bytes(listing, what="the listing")
          batch.commit()      # the barrier, then the renames

- ``arrivals``: downloads, each verified against the name it was asked for (a corrupt copy
  never enters the cache); committed when the block ends.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from strata.config import LinkType
from strata.errors import DiskFullError, ObjectCorruptError, StorageError
from strata.objects.hashing import hash_bytes, hash_file, hasher_for
from strata.objects.state import FileStat
from strata.objects.store import ObjectStore, sync_filesystem, translate_os_error
from strata.parallel import parallel_map

_CHUNK = 8 * 1024 * 1024
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
_READ_ONLY = 0o444
_datasync = getattr(os, "fdatasync", os.fsync)  # contents and size, not timestamps


class _Batch:
    """Temp files of the cache waiting for one durability barrier, then their names."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._pending: dict[str, Path] = {}
        self._linked: set[str] = set()  # hardlinks: their bytes are the source's, on disk
        self._read_only: set[str] = set()  # temp files made read-only when created
        self._lock = threading.Lock()

    def _new_tmp(self) -> Path:
        self._store.tmp_dir.mkdir(parents=True, exist_ok=True)
        return self._store.tmp_dir / f"{uuid.uuid4().hex}.tmp"

    def _keep(self, name: str, tmp: Path, *, linked: bool = False, read_only: bool = False) -> None:
        """Hold ``tmp`` as object ``name``; a second copy of a name already held is removed."""
        with self._lock:
            if name in self._pending:
                tmp.unlink(missing_ok=True)
                return
            self._pending[name] = tmp
            if linked:
                self._linked.add(name)
            if read_only:
                self._read_only.add(name)

    def commit(self) -> int:
        """Make the pending objects durable with one barrier, then rename each to its hash;
        how many there were."""
        pending = self._pending
        copies = [tmp for name, tmp in pending.items() if name not in self._linked]
        try:
            if len(copies) == 1:
                _sync_file(copies[0])
            elif copies:
                sync_filesystem(self._store.tmp_dir)
            root = os.fspath(self._store.root)
            shards: set[str] = set()
            done = 0
            for name in list(pending):
                shard = f"{root}/{name[:2]}"
                if shard not in shards:
                    os.makedirs(shard, exist_ok=True)
                    shards.add(shard)
                if name not in self._read_only:
                    os.chmod(pending[name], _READ_ONLY)
                os.replace(pending.pop(name), f"{shard}/{name[2:]}")
                done += 1
        except OSError as exc:
            raise translate_os_error(exc, "storing objects in the cache") from exc
        return done

    def discard(self) -> None:
        for tmp in self._pending.values():
            tmp.unlink(missing_ok=True)
        self._pending.clear()
        self._linked.clear()
        self._read_only.clear()


# -- new objects ----------------------------------------------------------------------------
@contextmanager
def deposits(store: ObjectStore) -> Iterator[Deposits]:
    """A batch of new objects for ``store``; what is not committed is removed at the end."""
    batch = Deposits(store)
    try:
        yield batch
    finally:
        batch.discard()


class Deposits(_Batch):
    """New objects in temp files, waiting for one durability barrier (see ``deposits``)."""

    def put_bytes(self, data: bytes, *, what: str) -> str:
        """Add ``data``; its hash."""
        name = hash_bytes(data)
        if not self._wanted(name):
            return name
        tmp = self._new_tmp()
        try:
            _write_new(tmp, data, 0o644)
        except OSError as exc:
            raise translate_os_error(exc, f"storing {what} in the cache") from exc
        self._keep(name, tmp)
        return name

    def put_file(self, src: Path, hashed: FileStat, *, what: str, link: bool = False) -> str:
        """Add the file at ``src`` (``hashed``: its stat before) and return its hash. Copied
        and hashed in one pass; with ``link``, placed by the store's link types (reflink,
        hardlink, copy) and the placed file hashed. Either way ``src`` is read once.
        StorageError when the file changed meanwhile."""
        tmp = self._new_tmp()
        link_type: LinkType = "copy"
        try:
            if link:
                link_type = self._store._linker_in.place(src, tmp, durable=False)
                name = hash_file(tmp, hashed.size)
            else:
                name = _copy_hashing(src, tmp)
            if FileStat.of(os.stat(src)) != hashed:
                raise StorageError(
                    f"{what} changed while it was being stored",
                    hint="wait until it is written completely and try again",
                )
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise translate_os_error(exc, f"storing {what} in the cache") from exc
            raise
        if self._wanted(name):
            self._keep(name, tmp, linked=link_type == "hardlink")
        else:
            tmp.unlink(missing_ok=True)
        return name

    def _wanted(self, name: str) -> bool:
        return name not in self._pending and not self._store.exists(name)


# -- downloads ------------------------------------------------------------------------------
@contextmanager
def arrivals(store: ObjectStore) -> Iterator[Arrivals]:
    """Receive downloads into ``store`` in a batch, committed when the block ends; a crash
    before the end leaves only temp files, which the next fetch does not count."""
    batch = Arrivals(store)
    try:
        yield batch
        batch.commit()
    finally:
        batch.discard()


class Arrivals(_Batch):
    """Downloads verified against their names and waiting for one barrier (``arrivals``)."""

    def receive(self, name: str, write: Callable[[Path], object], *, what: str) -> None:
        """Have ``write(tmp)`` produce object ``name``; refused unless its hash matches."""

        def write_then_hash(tmp: Path) -> str:
            write(tmp)
            return hash_file(tmp)

        self.receive_hashed(name, write_then_hash, what=what)

    def receive_hashed(self, name: str, write: Callable[[Path], str], *, what: str) -> None:
        """Have ``write(tmp)`` produce object ``name`` and return the hash of what it wrote,
        computed as it wrote it; refused unless that hash is ``name``."""
        if self._store.exists(name):
            return
        tmp = self._new_tmp()
        try:
            if write(tmp) != name:
                raise ObjectCorruptError(f"object {name[:12]} for {what} arrived corrupt")
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise translate_os_error(exc, f"storing {what} in the cache") from exc
            raise
        self._keep(name, tmp)

    def receive_all(
        self, items: Sequence[tuple[str, bytes]], jobs: int
    ) -> list[tuple[str, StorageError]]:
        """Many objects from memory, each checked against its hash and written to a temp
        file, on ``jobs`` threads that each take a share (no task per object). The caller
        has checked they are not in the store yet. Returns the ones refused, with why; a
        full disk is raised."""
        self._store.tmp_dir.mkdir(parents=True, exist_ok=True)
        prefix = f"{self._store.tmp_dir}/{uuid.uuid4().hex}-"
        refused: list[tuple[str, StorageError]] = []

        def share(part: Sequence[tuple[int, tuple[str, bytes]]]) -> None:
            for number, (name, data) in part:
                if hash_bytes(data) != name:
                    corrupt = ObjectCorruptError(f"object {name[:12]} arrived corrupt")
                    refused.append((name, corrupt))
                    continue
                tmp = Path(f"{prefix}{number}.tmp")
                try:
                    _write_new(tmp, data, _READ_ONLY)
                except OSError as exc:
                    failure = translate_os_error(exc, f"storing {name[:12]} in the cache")
                    if isinstance(failure, DiskFullError):
                        raise failure from exc
                    refused.append((name, failure))
                    continue
                self._keep(name, tmp, read_only=True)

        numbered = list(enumerate(items))
        shares = max(1, min(jobs, len(numbered)))
        parallel_map(share, [numbered[k::shares] for k in range(shares)], shares)
        return refused


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` holding ``data``; on an error, nothing is left of it."""
    try:
        fd = os.open(path, _NEW_FILE, mode)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
    except OSError:
        path.unlink(missing_ok=True)
        raise


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy_hashing(src: Path, tmp: Path) -> str:
    """Copy ``src`` to the new file ``tmp``, hashing the bytes on the way; their hash."""
    fin = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    try:
        hasher = hasher_for(os.fstat(fin).st_size)
        fout = os.open(tmp, _NEW_FILE, 0o644)
        try:
            while chunk := os.read(fin, _CHUNK):
                hasher.update(chunk)
                write_all(fout, chunk)
        finally:
            os.close(fout)
    finally:
        os.close(fin)
    return str(hasher.hexdigest())


def _sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        _datasync(fd)
    finally:
        os.close(fd)
