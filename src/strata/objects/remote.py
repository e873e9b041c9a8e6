"""Remotes: a copy of the object store on any fsspec filesystem (a folder, ``s3://``, …).

Objects keep the cache's layout, ``<root>/<first two hex digits>/<rest>``. An upload to an
object store is atomic by itself (an object is visible once complete); on a plain filesystem
it goes to ``<root>/tmp`` and is renamed into place. Downloads land in the local cache through
its own atomic path, and are verified against their hash before they count.

fsspec and its backends are imported on first use; a missing backend names the extra to install.
"""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.errors import ObjectCorruptError, RemoteError, StrataError
from strata.objects.chunks import DEFAULT_THRESHOLD, Manifest, split
from strata.objects.hashing import hash_bytes, is_hash

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

_EXTRAS = {"s3": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure"}


@dataclass(frozen=True, slots=True)
class Failure:
    name: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"hash": self.name, "reason": self.reason}


@dataclass(frozen=True)
class TransferResult:
    """What a push or fetch moved, what was there already, and what failed and why."""

    transferred: tuple[str, ...] = ()
    present: int = 0
    failed: tuple[Failure, ...] = field(default_factory=tuple)
    bytes: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "transferred": len(self.transferred),
            "already_there": self.present,
            "bytes": self.bytes,
            "failed": [f.to_dict() for f in self.failed],
        }


def _storage_options(options: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "endpoint_url" in options:
        out["endpoint_url"] = options["endpoint_url"]
    if "region" in options:
        out["client_kwargs"] = {"region_name": options["region"]}
    if "profile" in options:
        out["profile"] = options["profile"]
    return out


class Remote:
    def __init__(self, name: str, url: str, options: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.options = dict(options or {})
        self._chunked: set[str] = set()  # objects stored as chunks, learnt from names()

    def _fail(self, exc: BaseException, doing: str) -> RemoteError:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, PermissionError):
            hint = "check the credentials (environment or .strata/config.local.toml)"
        elif isinstance(exc, FileNotFoundError):
            hint = "check that the bucket or folder exists"
        else:
            hint = "check the URL, the endpoint and the network"
        first_line = reason.splitlines()[0] if reason.splitlines() else reason
        return RemoteError(
            f"remote {self.name!r} ({self.url}): cannot {doing}: {first_line}", hint=hint
        )

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

            fs, root = url_to_fs(self.url, **_storage_options(self.options))
        except ImportError as exc:
            extra = _EXTRAS.get(protocol, protocol)
            raise RemoteError(
                f"remote {self.name!r} needs support for {protocol}://",
                hint=f"pip install 'strata-ml[{extra}]'",
            ) from exc
        except (ValueError, OSError) as exc:
            raise self._fail(exc, "open it") from exc
        return fs, root

    @property
    def is_local(self) -> bool:
        from fsspec.implementations.local import LocalFileSystem

        return isinstance(self.fs, LocalFileSystem)

    def _path(self, name: str) -> str:
        return f"{self.root}/{name[:2]}/{name[2:]}"

    def _manifest_path(self, name: str) -> str:
        return f"{self.root}/manifests/{name[:2]}/{name[2:]}"

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
        try:
            if not self.fs.exists(self.root):
                bucket = self.root.split("/", 1)[0]
                if not self.is_local and not self.fs.exists(bucket):
                    raise FileNotFoundError(f"bucket {bucket!r} does not exist")
                return set()  # nothing pushed yet
            found = self.fs.find(self.root)
        except Exception as exc:
            raise self._fail(exc, "list its objects") from exc
        names: set[str] = set()
        self._chunked = set()
        for path in found:
            parts = str(path).rstrip("/").split("/")
            if len(parts) >= 3 and is_hash(parts[-2] + parts[-1]):
                names.add(parts[-2] + parts[-1])
                if parts[-3] == "manifests":
                    self._chunked.add(parts[-2] + parts[-1])
        return names

    def _put(self, target: str, local: Path | None = None, data: bytes = b"") -> None:
        """Write one remote file so that it is never seen half-written."""
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
                self.fs.pipe_file(tmp, data)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def upload(self, local: Path, name: str, present: set[str] | None = None) -> int:
        """Send object ``name``; a large one goes as the chunks ``present`` lacks plus its
        manifest. Returns the bytes sent."""
        try:
            size = os.stat(local).st_size
            if size < self.chunk_threshold or size == 0:
                self._put(self._path(name), local=local)
                return size
            return self._upload_chunks(local, name, present or set())
        except Exception as exc:
            raise self._fail(exc, f"upload object {name[:12]}") from exc

    def _upload_chunks(self, local: Path, name: str, present: set[str]) -> int:
        sent, chunks = 0, []
        for chunk, data in split(local):
            chunks.append(chunk)
            if chunk.hash not in present:
                self._put(self._path(chunk.hash), data=data)
                present.add(chunk.hash)
                sent += chunk.size
        manifest = Manifest(sum(c.size for c in chunks), tuple(chunks)).to_bytes()
        self._put(self._manifest_path(name), data=manifest)  # last: the object now counts
        return sent + len(manifest)

    def download(self, name: str, local: Path) -> None:
        """Copy object ``name`` to the local file ``local`` (reassembling a chunked one); a
        full local disk stays an OSError for the cache to report as such."""
        try:
            if name in self._chunked:
                with open(local, "wb") as out:
                    for data in self._chunks_of(name):
                        out.write(data)
            else:
                self.fs.get_file(self._path(name), os.fspath(local))
        except StrataError:
            raise
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise
            raise self._fail(exc, f"download object {name[:12]}") from exc
        except Exception as exc:
            raise self._fail(exc, f"download object {name[:12]}") from exc

    def read(self, name: str) -> bytes:
        try:
            if name in self._chunked:
                return b"".join(self._chunks_of(name))
            data: bytes = self.fs.cat_file(self._path(name))
        except StrataError:
            raise
        except Exception as exc:
            raise self._fail(exc, f"read object {name[:12]}") from exc
        return data

    def _chunks_of(self, name: str) -> Iterator[bytes]:
        """The bytes of a chunked object, chunk by chunk, each checked against its hash."""
        what = f"object {name[:12]}"
        manifest = Manifest.from_bytes(self.fs.cat_file(self._manifest_path(name)), what=what)
        for chunk in manifest.chunks:
            try:
                data: bytes = self.fs.cat_file(self._path(chunk.hash))
            except FileNotFoundError:
                raise RemoteError(
                    f"remote {self.name!r}: the manifest of {what} names chunk "
                    f"{chunk.hash[:12]}, which is missing",
                    hint="push the object again from a workspace that has it",
                ) from None
            if hash_bytes(data) != chunk.hash:
                raise ObjectCorruptError(f"chunk {chunk.hash[:12]} of {what} is corrupt")
            yield data
