"""Remotes: a copy of the object store on any fsspec filesystem (a folder, ``s3://``, …).

Objects keep the cache's layout, ``<root>/<first two hex digits>/<rest>``; chunks live there
too, chunk manifests under ``<root>/manifests/``, and ``<root>/repos/<id>`` marks each
repository that pushes here (``gc --cloud`` refuses to collect a remote others push to).

An upload to an object store is atomic by itself (an object is visible once complete); on a
plain filesystem it goes to ``<root>/tmp`` and is renamed into place. Downloads land in the
local cache through its own atomic path, and are verified against their hash before they count.

fsspec and its backends are imported on first use; a missing backend names the extra to install.
"""

from __future__ import annotations

import errno
import os
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from strata.config import REDACTED, is_secret_key, redact
from strata.errors import (
    DiskFullError,
    ObjectCorruptError,
    ObjectMissingError,
    RemoteError,
    StorageError,
    StrataError,
)
from strata.objects.chunks import DEFAULT_THRESHOLD, Chunk, Manifest, split
from strata.objects.hashing import hash_bytes, is_hash

if TYPE_CHECKING:
    from concurrent.futures import Future

    from fsspec import AbstractFileSystem

T = TypeVar("T")
R = TypeVar("R")

CHUNK_JOBS = 8  # chunks of one object in flight at once, each at most MAX_CHUNK bytes
_EXTRAS = {"s3": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure"}


FailureKind = Literal["missing", "corrupt", "unreadable"]


@dataclass(frozen=True, slots=True)
class Failure:
    """One object that did not move or check out: ``missing`` (not there), ``corrupt`` (its
    bytes do not match its name) or ``unreadable`` (the network, credentials or disk failed);
    ``path`` is the tracked path that uses it, where known."""

    name: str
    reason: str
    kind: FailureKind = "unreadable"
    path: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"hash": self.name, "path": self.path, "kind": self.kind, "reason": self.reason}

    @property
    def what(self) -> str:
        """The object as a person names it: its path when known, else its hash."""
        return f"{self.path} ({self.name[:12]})" if self.path else self.name[:12]


@dataclass(frozen=True)
class Listing:
    """What one listing of a remote found: plain objects and chunks (one namespace, since a
    chunk is named by its bytes' hash too) and chunk manifests, each with its size in bytes,
    and the ids of the repositories that pushed here."""

    files: Mapping[str, int]
    manifests: Mapping[str, int]
    repositories: frozenset[str]

    @property
    def names(self) -> set[str]:
        return set(self.files) | set(self.manifests)


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


def is_repository_id(text: str) -> bool:
    """A repository id as ``repos/`` markers name them: 8 to 64 lowercase hex digits."""
    return 8 <= len(text) <= 64 and all(c in "0123456789abcdef" for c in text)


# Credential settings (kept in the local config) by the name each filesystem takes them under.
_CREDENTIALS: dict[str, dict[str, str]] = {
    "s3": {"access_key_id": "key", "secret_access_key": "secret", "session_token": "token"},
    "az": {
        "account_name": "account_name",
        "account_key": "account_key",
        "sas_token": "sas_token",
        "connection_string": "connection_string",
    },
    "gs": {"credentials": "token"},
}
_CREDENTIALS.update(abfs=_CREDENTIALS["az"], gcs=_CREDENTIALS["gs"])


def _storage_options(protocol: str, options: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "endpoint_url" in options:
        out["endpoint_url"] = options["endpoint_url"]
    if "region" in options:
        out["client_kwargs"] = {"region_name": options["region"]}
    if "profile" in options:
        out["profile"] = options["profile"]
    for setting, name in _CREDENTIALS.get(protocol, {}).items():
        if options.get(setting):
            out[name] = options[setting]
    return out


class Remote:
    def __init__(self, name: str, url: str, options: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.options = dict(options or {})
        self._chunked: set[str] = set()  # objects stored as chunks, learnt from names()

    def _fail(self, exc: BaseException, doing: str) -> StorageError:
        """The error for ``exc``, met while doing ``doing``; passwords never appear in it."""
        where = f"remote {self.name!r} ({redact(self.url)})"
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return DiskFullError(
                f"{where}: cannot {doing}: no space left on the remote",
                hint="free space on the remote (or raise its quota), then run the command again",
            )
        reason = redact(str(exc) or type(exc).__name__)
        for secret in self._secrets():
            reason = reason.replace(secret, REDACTED)  # quoted by a library in its own way
        if isinstance(exc, PermissionError):
            hint = "check the credentials (environment or .strata/config.local.toml)"
        elif isinstance(exc, FileNotFoundError):
            hint = "check that the bucket or folder exists"
        else:
            hint = "check the URL, the endpoint and the network"
        first_line = reason.splitlines()[0] if reason.splitlines() else reason
        return RemoteError(f"{where}: cannot {doing}: {first_line}", hint=hint)

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

            fs, root = url_to_fs(self.url, **_storage_options(protocol, self.options))
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
        """Objects, chunks, manifests and repository markers, from one listing."""
        try:
            if not self.fs.exists(self.root):
                bucket = self.root.split("/", 1)[0]
                if not self.is_local and not self.fs.exists(bucket):
                    raise FileNotFoundError(f"bucket {bucket!r} does not exist")
                return Listing({}, {}, frozenset())  # nothing pushed yet
            found = self.fs.find(self.root, detail=True)
        except Exception as exc:
            raise self._fail(exc, "list its objects") from exc
        files: dict[str, int] = {}
        manifests: dict[str, int] = {}
        repositories: set[str] = set()
        for path, info in found.items():
            parts = str(path).rstrip("/").split("/")
            size = int(info.get("size") or 0)
            if len(parts) >= 2 and parts[-2] == "repos" and is_repository_id(parts[-1]):
                repositories.add(parts[-1])
            elif len(parts) >= 3 and is_hash(parts[-2] + parts[-1]):
                into = manifests if parts[-3] == "manifests" else files
                into[parts[-2] + parts[-1]] = size
        self._chunked = set(manifests)
        return Listing(files, manifests, frozenset(repositories))

    def mark(self, repository: str) -> None:
        """Record that repository ``repository`` pushes to this remote."""
        try:
            self._put(self._marker_path(repository), data=repository.encode())
        except Exception as exc:
            raise self._fail(exc, "record this repository") from exc

    def starts_with(self, name: str, prefix: bytes) -> bool:
        """Whether plain object ``name`` begins with ``prefix`` (one ranged read)."""
        try:
            head: bytes = self.fs.cat_file(self._path(name), start=0, end=len(prefix))
        except Exception as exc:
            raise self._fail(exc, f"read object {name[:12]}") from exc
        return head == prefix

    def manifest(self, name: str) -> Manifest:
        """The chunk manifest of object ``name``."""
        try:
            data = self.fs.cat_file(self._manifest_path(name))
        except Exception as exc:
            raise self._fail(exc, f"read the manifest of object {name[:12]}") from exc
        return Manifest.from_bytes(data, what=f"object {name[:12]} on remote {self.name!r}")

    def delete(self, name: str, *, manifest: bool = False) -> None:
        """Remove a plain object or chunk, or with ``manifest`` an object's chunk manifest;
        one already gone counts as removed."""
        path = self._manifest_path(name) if manifest else self._path(name)
        try:
            self.fs.rm_file(path)
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise self._fail(exc, f"remove object {name[:12]}") from exc

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
        """Send the chunks ``present`` lacks, several at a time while the file is being cut
        (a round trip per chunk in a row would dominate on an object store), then the
        manifest."""
        sent, chunks, scheduled = 0, [], set()

        def put_chunk(item: tuple[Chunk, bytes]) -> None:
            self._put(self._path(item[0].hash), data=item[1])
            present.add(item[0].hash)  # only once it is there: other objects skip it then

        def new_chunks() -> Iterator[tuple[Chunk, bytes]]:
            nonlocal sent
            for chunk, data in split(local):
                chunks.append(chunk)
                if chunk.hash not in present and chunk.hash not in scheduled:
                    scheduled.add(chunk.hash)
                    sent += chunk.size
                    yield chunk, data

        for _ in in_order(put_chunk, new_chunks(), CHUNK_JOBS):
            pass
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

        def get_chunk(chunk: Chunk) -> bytes:
            try:
                data: bytes = self.fs.cat_file(self._path(chunk.hash))
            except FileNotFoundError:
                raise ObjectMissingError(
                    f"remote {self.name!r}: the manifest of {what} names chunk "
                    f"{chunk.hash[:12]}, which is missing",
                    hint="push the object again from a workspace that has it",
                ) from None
            if hash_bytes(data) != chunk.hash:
                raise ObjectCorruptError(f"chunk {chunk.hash[:12]} of {what} is corrupt")
            return data

        yield from in_order(get_chunk, iter(manifest.chunks), CHUNK_JOBS)


def in_order(func: Callable[[T], R], items: Iterator[T], window: int) -> Iterator[R]:
    """``func`` of each item, in order, with up to ``window`` calls running at once on
    threads: at most ``window`` results are held, however many items there are."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(window)
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(func, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)
