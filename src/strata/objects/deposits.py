"""New objects written in a batch: each hashed as it is written into a temp file of the
cache (its source read once), then made durable by one barrier for the whole batch and
renamed to its hash.

    with deposits(store) as batch:
        name = batch.put_file(path, stat, what="model.bin")
        tree = batch.put_bytes(listing, what="the listing")
        ...                 # work that needs the names, e.g. a metadata transaction
        batch.commit()      # one fdatasync (one file) or one syncfs (several); then renames

A crash before ``commit`` ends leaves only temp files (``clean_tmp`` removes them); no
object is seen under its name before its bytes are on disk. What is not committed when the
block ends is removed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from strata.config import LinkType
from strata.errors import StorageError
from strata.objects.hashing import hash_bytes, hash_file, hasher_for
from strata.objects.state import FileStat
from strata.objects.store import ObjectStore, sync_filesystem, translate_os_error

_CHUNK = 8 * 1024 * 1024
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
_datasync = getattr(os, "fdatasync", os.fsync)  # contents and size, not timestamps


@contextmanager
def deposits(store: ObjectStore) -> Iterator[Deposits]:
    """A batch of new objects for ``store``; what is not committed is removed at the end."""
    batch = Deposits(store)
    try:
        yield batch
    finally:
        batch.discard()


class Deposits:
    """New objects in temp files, waiting for one durability barrier (see ``deposits``)."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._pending: dict[str, tuple[Path, LinkType]] = {}

    def put_bytes(self, data: bytes, *, what: str) -> str:
        """Add ``data``; its hash."""
        name = hash_bytes(data)
        if not self._wanted(name):
            return name
        tmp = self._new_tmp()
        try:
            fd = os.open(tmp, _NEW_FILE, 0o644)
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise translate_os_error(exc, f"storing {what} in the cache") from exc
        self._keep(name, tmp, "copy")
        return name

    def put_file(self, src: Path, hashed: FileStat, *, what: str, link: bool = False) -> str:
        """Add the file at ``src`` (``hashed``: its stat before) and return its hash. Copied
        and hashed in one pass; with ``link``, placed by the store's link types (reflink,
        hardlink, copy) and the placed file hashed. Either way ``src`` is read once.
        StorageError when the file changed meanwhile."""
        tmp = self._new_tmp()
        try:
            if link:
                link_type = self._store._linker_in.place(src, tmp, durable=False)
                name = hash_file(tmp, hashed.size)
            else:
                link_type, name = "copy", _copy_hashing(src, tmp)
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
            self._keep(name, tmp, link_type)
        else:
            tmp.unlink(missing_ok=True)
        return name

    def commit(self) -> int:
        """Make the pending objects durable with one barrier, then rename each to its hash;
        how many there were. A hardlinked object needs none: its bytes are the source's."""
        pending = self._pending
        copies = [tmp for tmp, link_type in pending.values() if link_type != "hardlink"]
        try:
            if len(copies) == 1:
                _sync_file(copies[0])
            elif copies:
                sync_filesystem(self._store.tmp_dir)
            done = 0
            for name in list(pending):
                self._store._commit(pending.pop(name)[0], name)
                done += 1
        except OSError as exc:
            raise translate_os_error(exc, "storing objects in the cache") from exc
        return done

    def discard(self) -> None:
        for tmp, _ in self._pending.values():
            tmp.unlink(missing_ok=True)
        self._pending.clear()

    def _wanted(self, name: str) -> bool:
        return name not in self._pending and not self._store.exists(name)

    def _new_tmp(self) -> Path:
        self._store.tmp_dir.mkdir(parents=True, exist_ok=True)
        return self._store.tmp_dir / f"{uuid.uuid4().hex}.tmp"

    def _keep(self, name: str, tmp: Path, link_type: LinkType) -> None:
        self._pending[name] = (tmp, link_type)


def _write_all(fd: int, data: bytes | memoryview) -> None:
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
                _write_all(fout, chunk)
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
