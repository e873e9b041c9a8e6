"""Remotes: a copy of the object store on any fsspec filesystem (a folder, ``s3://``, …).

A push writes objects, the chunks of large ones and their manifests into packs under
``<root>/packs/`` (see ``strata.objects.packs``); ``<root>/repos/<id>`` marks each repository
that pushes here (``gc --cloud`` refuses to collect a remote others push to). Remotes written
before packs keep the cache's layout, ``<root>/<first two hex digits>/<rest>`` with manifests
under ``<root>/manifests/``; they are still read, and ``gc --cloud`` still collects them.

An upload to an object store is atomic by itself (an object is visible once complete); on a
plain filesystem it goes to ``<root>/tmp`` and is renamed into place. Downloads land in the
local cache through its own atomic path, and are verified against their hash before they count.

fsspec and its backends are imported on first use; a missing backend names the extra to install.
"""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from strata.config import is_secret_key, redact
from strata.errors import (
    ObjectCorruptError,
    ObjectMissingError,
    RemoteError,
    StorageError,
    StrataError,
)
from strata.objects.chunks import DEFAULT_THRESHOLD, Manifest
from strata.objects.hashing import hash_bytes
from strata.objects.links import write_hashing
from strata.objects.packs import (
    INDEX_SUFFIX,
    PACK_SIZE,
    PACK_SUFFIX,
    RANGE_MAX,
    Located,
    PackIndex,
    RangeRead,
    plan_reads,
)
from strata.objects.remote_fs import EXTRAS, storage_failure, storage_options, stream_up
from strata.objects.remote_listing import PACK_GONE, FoundFiles, Listing, age
from strata.parallel import in_order
from strata.paths import atomic_write

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

CHUNK_JOBS = 8  # reads of one object in flight at once
UPLOAD_BLOCK = 8 * 1024 * 1024  # a pack goes to an object store this much at a time
CHUNK_RANGE = 8 * 1024 * 1024  # a large object's chunks are read this much at a time


class Remote:
    def __init__(
        self,
        name: str,
        url: str,
        options: Mapping[str, str] | None = None,
        *,
        index_cache: Path | None = None,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.options = dict(options or {})
        self.index_cache = index_cache  # a local folder keeping pack indexes already read
        self._last: Listing | None = None  # the latest listing: where each object is

    def failure(self, exc: BaseException, doing: str) -> StorageError:
        """The error for ``exc``, met while doing ``doing``; passwords never appear in it."""
        where = f"remote {self.name!r} ({redact(self.url)})"
        return storage_failure(exc, doing, where, self._secrets())

    def _secrets(self) -> list[str]:
        """The credentials this remote holds: its URL's password and secret settings."""
        from urllib.parse import urlsplit

        try:
            found = [urlsplit(self.url).password or ""]
        except ValueError:
            found = []
        found += [v for k, v in self.options.items() if is_secret_key(k)]
        return [s for s in found if s]

    @property
    def fs(self) -> AbstractFileSystem:
        return self._opened[0]

    @property
    def root(self) -> str:
        return self._opened[1]

    @cached_property
    def _opened(self) -> tuple[AbstractFileSystem, str]:
        """The filesystem and the root path on it, made on first use."""
        protocol = self.url.split("://", 1)[0] if "://" in self.url else "file"
        try:
            from fsspec.core import url_to_fs

            fs, root = url_to_fs(self.url, **storage_options(protocol, self.options))
        except ImportError as exc:
            extra = EXTRAS.get(protocol, protocol)
            raise RemoteError(
                f"remote {self.name!r} needs support for {protocol}://",
                hint=f"pip install 'strata-ml[{extra}]'",
            ) from exc
        except (ValueError, OSError) as exc:
            raise self.failure(exc, "open it") from exc
        return fs, root

    @property
    def is_local(self) -> bool:
        from fsspec.implementations.local import LocalFileSystem

        return isinstance(self.fs, LocalFileSystem)

    def _path(self, name: str) -> str:
        return f"{self.root}/{name[:2]}/{name[2:]}"

    def _manifest_path(self, name: str) -> str:
        return f"{self.root}/manifests/{name[:2]}/{name[2:]}"

    def _marker_path(self, repository: str) -> str:
        return f"{self.root}/repos/{repository}"

    @property
    def chunk_threshold(self) -> int:
        """Objects of this size and larger travel as chunks (``chunk_threshold`` option)."""
        try:
            return int(self.options.get("chunk_threshold", DEFAULT_THRESHOLD))
        except ValueError:
            raise RemoteError(
                f"remote {self.name!r}: chunk_threshold must be a number of bytes"
            ) from None

    def names(self) -> set[str]:
        """Every object on the remote (one listing, not one request per object)."""
        return self.listing().names

    def listing(self) -> Listing:
        """Objects, chunks, manifests, packs and repository markers, from one listing (and
        a read of each pack index not seen before)."""
        try:
            if not self.fs.exists(self.root):
                bucket = self.root.split("/", 1)[0]
                if not self.is_local and not self.fs.exists(bucket):
                    raise FileNotFoundError(f"bucket {bucket!r} does not exist")
                self._last = Listing({}, {}, frozenset())  # nothing pushed yet
                return self._last
            found = self.fs.find(self.root, detail=True)
        except Exception as exc:
            raise self.failure(exc, "list its objects") from exc
        sorted_out = FoundFiles.sort(found)
        pack_files, indexes = sorted_out.pack_files, sorted_out.indexes
        packs, bad = self._read_indexes(sorted(indexes & set(pack_files)))
        bad.update({n: PACK_GONE for n in indexes - set(pack_files)})
        stray = {n: age(info) for n, info in pack_files.items() if n not in indexes}
        repositories = frozenset(sorted_out.repositories)
        self._last = Listing(
            sorted_out.files, sorted_out.manifests, repositories, packs, bad, stray
        )
        return self._last

    def _read_indexes(self, names: Sequence[str]) -> tuple[dict[str, PackIndex], dict[str, str]]:
        """The indexes of packs ``names``, from the local copy when there is one; an index
        whose bytes do not hash to its pack's name is refused with the reason."""
        packs: dict[str, PackIndex] = {}
        bad: dict[str, str] = {}

        def one(name: str) -> tuple[str, PackIndex | str]:
            cached = self.index_cache / name if self.index_cache is not None else None
            if cached is not None and cached.is_file():
                data = cached.read_bytes()
                if hash_bytes(data) == name:
                    return name, PackIndex.from_bytes(data, what=f"pack {name[:12]}")
            try:
                data = self.fs.cat_file(self._pack_path(name, INDEX_SUFFIX))
            except Exception as exc:
                raise self.failure(exc, f"read the index of pack {name[:12]}") from exc
            if hash_bytes(data) != name:
                return name, "its index does not match the pack's name (corrupt or altered)"
            try:
                index = PackIndex.from_bytes(data, what=f"pack {name[:12]}")
            except ObjectCorruptError as exc:
                return name, exc.message
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(cached, data, durable=False)  # checked when read
            return name, index

        for name, got in in_order(one, iter(names), CHUNK_JOBS):
            if isinstance(got, str):
                bad[name] = got
            else:
                packs[name] = got
        return packs, bad

    def mark(self, repository: str) -> None:
        """Record that repository ``repository`` pushes to this remote."""
        try:
            self._put(self._marker_path(repository), data=repository.encode())
        except Exception as exc:
            raise self.failure(exc, "record this repository") from exc

    def delete(self, name: str, *, manifest: bool = False) -> None:
        """Remove a plain object or chunk, or with ``manifest`` an object's chunk manifest;
        one already gone counts as removed."""
        path = self._manifest_path(name) if manifest else self._path(name)
        self._remove(path, f"remove object {name[:12]}")

    def _remove(self, path: str, doing: str) -> None:
        """Remove one remote file; one already gone counts as removed."""
        try:
            self.fs.rm_file(path)
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise self.failure(exc, doing) from exc

    def _put(self, target: str, local: Path | None = None, data: bytes = b"") -> None:
        """Write one remote file so that it is never seen half-written (on a folder remote, a
        file of its own renamed into place)."""
        if not self.is_local:
            if local is not None:
                self.fs.put_file(os.fspath(local), target)
            else:
                self.fs.pipe_file(target, data)
            return
        tmp = f"{self.root}/tmp/{uuid.uuid4().hex}.tmp"
        self.fs.makedirs(f"{self.root}/tmp", exist_ok=True)
        self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        try:
            if local is not None:
                self.fs.put_file(os.fspath(local), tmp)
            else:
                with open(tmp, "wb") as fh:
                    fh.write(data)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    # -- packs -----------------------------------------------------------------------------
    @property
    def pack_size(self) -> int:
        """Packs are sealed at about this many bytes (``pack_size`` option)."""
        try:
            return max(1, int(self.options.get("pack_size", PACK_SIZE)))
        except ValueError:
            raise RemoteError(
                f"remote {self.name!r}: pack_size must be a number of bytes"
            ) from None

    def new_pack_file(self, spool: Path) -> Path:
        """A fresh file to write a pack into: in the remote's own ``tmp`` folder when it is a
        folder (so publishing is a rename), else in the local folder ``spool``."""
        folder = Path(f"{self.root}/tmp") if self.is_local else spool
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{uuid.uuid4().hex}{PACK_SUFFIX}.tmp"

    def upload_pack(self, written: Path, index: PackIndex) -> None:
        """Put pack file ``written`` on the remote under its name; the written file is gone
        afterwards. On a folder remote the pack is on disk before it gets its name, and its
        index is written and made durable in ``tmp`` here too (on the upload's thread, while
        the next pack fills), for ``publish_index`` to rename into place."""
        target = self._pack_path(index.name)
        try:
            if self.is_local:
                with open(written, "rb+") as fh:
                    os.fsync(fh.fileno())
                self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
                os.replace(written, target)
                with open(self._staged_index(index), "wb") as fh:
                    fh.write(index.to_bytes())
                    os.fsync(fh.fileno())
            else:
                stream_up(self.fs, written, target, UPLOAD_BLOCK)
        except Exception as exc:
            raise self.failure(exc, f"upload pack {index.name[:12]}") from exc
        finally:
            written.unlink(missing_ok=True)

    def _staged_index(self, index: PackIndex) -> str:
        return f"{self.root}/tmp/{index.name}{INDEX_SUFFIX}.tmp"

    def publish_index(self, index: PackIndex) -> None:
        """Write the index of an uploaded pack: from now on its entries count as present."""
        data = index.to_bytes()
        name = index.name
        target = self._pack_path(name, INDEX_SUFFIX)
        try:
            if self.is_local:
                os.replace(self._staged_index(index), target)
            else:
                self._put(target, data=data)
        except Exception as exc:
            raise self.failure(exc, f"upload the index of pack {name[:12]}") from exc
        if self.index_cache is not None:
            self.index_cache.mkdir(parents=True, exist_ok=True)
            atomic_write(self.index_cache / name, data, durable=False)  # checked when read

    def unstage_index(self, index: PackIndex) -> None:
        """Remove the index a folder remote's upload left waiting, when it will not be
        published (the push stopped first)."""
        if self.is_local:
            Path(self._staged_index(index)).unlink(missing_ok=True)

    def delete_pack(self, pack: str, *, index: bool = True) -> None:
        """Remove a pack: its index first (its entries stop counting), then the pack file."""
        paths = [self._pack_path(pack, INDEX_SUFFIX)] if index else []
        for path in [*paths, self._pack_path(pack)]:
            self._remove(path, f"remove pack {pack[:12]}")

    # -- reading ---------------------------------------------------------------------------
    def _pack_path(self, pack: str, suffix: str = PACK_SUFFIX) -> str:
        return f"{self.root}/packs/{pack}{suffix}"

    @property
    def _known(self) -> Listing:
        """The latest listing (made now if there is none): where each object is."""
        return self._last if self._last is not None else self.listing()

    def _located(self) -> Mapping[str, Located]:
        return self._known.located

    def _is_chunked(self, name: str) -> bool:
        return name in self._known.chunked

    def _entry_bytes(self, name: str, *, manifest: bool = False) -> bytes:
        """The stored bytes of a plain object, chunk or manifest, loose or packed (unverified:
        a manifest is named by its object's hash, not its own)."""
        known = self._known
        where = (known.located_manifests if manifest else known.located).get(name)
        if where is not None:
            e = where.entry
            data: bytes = self.fs.cat_file(self._pack_path(where.pack), start=e.offset, end=e.end)
            return data
        path = self._manifest_path(name) if manifest else self._path(name)
        loose: bytes = self.fs.cat_file(path)
        return loose

    def starts_with(self, name: str, prefix: bytes) -> bool:
        """Whether plain object ``name`` begins with ``prefix`` (one ranged read)."""
        try:
            where = self._located().get(name)
            if where is not None:
                e = where.entry
                end = e.offset + min(len(prefix), e.size)
                head: bytes = self.fs.cat_file(self._pack_path(where.pack), start=e.offset, end=end)
            else:
                head = self.fs.cat_file(self._path(name), start=0, end=len(prefix))
        except Exception as exc:
            raise self.failure(exc, f"read object {name[:12]}") from exc
        return head == prefix

    def manifest(self, name: str) -> Manifest:
        """The chunk manifest of object ``name``."""
        try:
            data = self._entry_bytes(name, manifest=True)
        except Exception as exc:
            raise self.failure(exc, f"read the manifest of object {name[:12]}") from exc
        return Manifest.from_bytes(data, what=f"object {name[:12]} on remote {self.name!r}")

    def read_many(
        self, names: Sequence[str], jobs: int = CHUNK_JOBS, *, limit: int = RANGE_MAX
    ) -> Iterator[tuple[str, bytes | StorageError]]:
        """Plain objects and chunks, loose or packed, in the order given, each verified
        against its hash; ``jobs`` reads in flight. Neighbours in a pack come in one ranged
        read (``in_pack_order`` sorts names for that). A failure is yielded, not raised, for
        the name it concerns."""
        located = self._located()
        yield from self.read_entries((located.get(n, n) for n in names), jobs, limit=limit)

    def read_entries(
        self, wanted: Iterable[Located | str], jobs: int = CHUNK_JOBS, *, limit: int = RANGE_MAX
    ) -> Iterator[tuple[str, bytes | StorageError]]:
        """Packed entries (a packed manifest is checked only for its length, being named by
        its object) and loose objects (by name), in the order given, as ``read_many``."""

        def read(item: RangeRead | str) -> list[tuple[str, bytes | StorageError]]:
            if isinstance(item, str):
                return [(item, self._read_loose(item))]
            return self._read_range(item)

        for got in in_order(read, iter(plan_reads(wanted, limit=limit)), jobs):
            yield from got

    def _read_loose(self, name: str) -> bytes | StorageError:
        try:
            data: bytes = self.fs.cat_file(self._path(name))
        except FileNotFoundError:
            return ObjectMissingError(f"object {name[:12]} is not on remote {self.name!r}")
        except Exception as exc:
            return self.failure(exc, f"read object {name[:12]}")
        if hash_bytes(data) != name:
            return ObjectCorruptError(f"object {name[:12]} on remote {self.name!r} is corrupt")
        return data

    def _read_range(self, read: RangeRead) -> list[tuple[str, bytes | StorageError]]:
        failure: StorageError | None = None
        try:
            data: bytes = self.fs.cat_file(
                self._pack_path(read.pack), start=read.start, end=read.end
            )
        except FileNotFoundError:
            failure = ObjectMissingError(
                f"pack {read.pack[:12]} on remote {self.name!r} is gone",
                hint="push the objects again from a workspace that has them",
            )
        except Exception as exc:
            failure = self.failure(exc, f"read pack {read.pack[:12]}")
        if failure is not None:
            return [(e.name, failure) for e in read.parts]
        out: list[tuple[str, bytes | StorageError]] = []
        for e, part in read.split(data):
            if len(part) != e.size or (not e.manifest and hash_bytes(part) != e.name):
                out.append((e.name, self._corrupt_in_pack(e.name, read.pack)))
            else:
                out.append((e.name, part))
        return out

    def _corrupt_in_pack(self, name: str, pack: str) -> ObjectCorruptError:
        return ObjectCorruptError(
            f"object {name[:12]} in pack {pack[:12]} on remote {self.name!r} is corrupt",
            hint="run `strata verify --remote`, then push again from a workspace that has it",
        )

    def download(self, name: str, local: Path) -> str:
        """Copy object ``name`` to the local file ``local``; a chunked one is reassembled,
        each chunk verified, and its whole hash is returned (computed as it was written).
        A full local disk stays an OSError for the cache to report as such."""
        try:
            if self._is_chunked(name):
                return self._download_chunked(name, local)
            data = self._only(name)
            with open(local, "wb") as out:
                out.write(data)
            return hash_bytes(data)
        except StrataError:
            raise
        except Exception as exc:
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise  # the local disk: the cache reports it as such
            raise self.failure(exc, f"download object {name[:12]}") from exc

    def _only(self, name: str) -> bytes:
        """One plain object's verified bytes, or its failure raised."""
        for _, got in self.read_many([name], 1):
            if isinstance(got, StorageError):
                raise got
            return got
        raise ObjectMissingError(f"object {name[:12]} is not on remote {self.name!r}")

    def _download_chunked(self, name: str, local: Path) -> str:
        return write_hashing(self._chunks_of(name, self.manifest(name)), local)

    def read(self, name: str) -> bytes:
        """The whole of object ``name``, verified (a chunked one chunk by chunk)."""
        try:
            if self._is_chunked(name):
                return b"".join(self._chunks_of(name, self.manifest(name)))
            return self._only(name)
        except StrataError:
            raise
        except Exception as exc:
            raise self.failure(exc, f"read object {name[:12]}") from exc

    def _chunks_of(self, name: str, manifest: Manifest) -> Iterator[bytes]:
        """The bytes of a chunked object, chunk by chunk, each checked against its hash."""
        what = f"object {name[:12]}"
        available = self._known.names
        for chunk in manifest.chunks:
            if chunk.hash not in available:
                raise ObjectMissingError(
                    f"remote {self.name!r}: the manifest of {what} names chunk "
                    f"{chunk.hash[:12]}, which is missing",
                    hint="push the object again from a workspace that has it",
                )
        names = [c.hash for c in manifest.chunks]
        for chunk_name, got in self.read_many(names, CHUNK_JOBS, limit=CHUNK_RANGE):
            if isinstance(got, ObjectMissingError):
                raise ObjectMissingError(
                    f"remote {self.name!r}: the manifest of {what} names chunk "
                    f"{chunk_name[:12]}, which is missing",
                    hint="push the object again from a workspace that has it",
                )
            if isinstance(got, ObjectCorruptError):
                raise ObjectCorruptError(f"chunk {chunk_name[:12]} of {what} is corrupt")
            if isinstance(got, StorageError):
                raise got
            yield got
