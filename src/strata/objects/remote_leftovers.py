"""What pushes killed part-way leave on a remote, found and cleared by ``gc --cloud``.

On a folder remote: files in ``<root>/tmp/`` (a pack being written, an index waiting to be
renamed into place, a small file of its own before its rename). On an object store with
multipart uploads (S3 and its kind): uploads of packs never completed nor aborted, which cost
storage until aborted. Only what is older than a threshold counts: a push still writing
touched its file, or sent a part, more recently. Only uploads under the remote's root are
looked at; the rest of the bucket belongs to others. Filesystems with neither (another
object store) have nothing to clear here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strata.objects.remote import Remote
from strata.objects.remote_listing import age

if TYPE_CHECKING:
    from s3fs import S3FileSystem


@dataclass(frozen=True, slots=True)
class Upload:
    """A multipart upload left open: its key in the bucket, its id and the bytes of the parts
    it holds."""

    key: str
    upload_id: str
    size: int


@dataclass(frozen=True)
class Leftovers:
    """The stale leftovers of killed pushes on one remote: temporary files (path → size)
    and open multipart uploads."""

    temp_files: Mapping[str, int] = field(default_factory=dict)
    uploads: tuple[Upload, ...] = ()

    @property
    def size(self) -> int:
        return sum(self.temp_files.values()) + sum(u.size for u in self.uploads)


def find_leftovers(remote: Remote, older_than: float) -> Leftovers:
    """The temporary files and open multipart uploads on ``remote`` untouched for more than
    ``older_than`` seconds."""
    temp_files = _stale_temp_files(remote, older_than) if remote.is_local else {}
    s3 = _s3(remote)
    uploads = tuple(_stale_uploads(remote, s3, older_than)) if s3 is not None else ()
    return Leftovers(temp_files, uploads)


def clear_leftovers(remote: Remote, leftovers: Leftovers) -> None:
    """Remove the temporary files and abort the uploads; one already gone counts as done."""
    for path in leftovers.temp_files:
        try:
            remote.fs.rm_file(path)
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise remote.failure(exc, "remove a temporary file of an unfinished push") from exc
    s3 = _s3(remote)
    if s3 is None:
        return
    bucket = _bucket(remote)
    for upload in leftovers.uploads:
        try:
            s3.call_s3(
                "abort_multipart_upload", Bucket=bucket, Key=upload.key, UploadId=upload.upload_id
            )
        except FileNotFoundError:
            pass  # completed or aborted since it was listed
        except Exception as exc:
            raise remote.failure(exc, f"abort the unfinished upload of {upload.key}") from exc


def _stale_temp_files(remote: Remote, older_than: float) -> dict[str, int]:
    folder = f"{remote.root}/tmp"
    try:
        found: Mapping[str, Mapping[str, Any]] = remote.fs.find(folder, detail=True)
    except FileNotFoundError:
        return {}
    except Exception as exc:
        raise remote.failure(exc, "list its temporary files") from exc
    stale: dict[str, int] = {}
    for path, info in found.items():
        seconds = age(info)
        if info.get("type") == "file" and seconds is not None and seconds > older_than:
            stale[str(path)] = int(info.get("size") or 0)
    return stale


def _s3(remote: Remote) -> S3FileSystem | None:
    """The remote's filesystem when it is S3's (the one with multipart uploads here)."""
    try:
        from s3fs import S3FileSystem
    except ImportError:
        return None
    fs = remote.fs
    return fs if isinstance(fs, S3FileSystem) else None


def _bucket(remote: Remote) -> str:
    return remote.root.split("/", 1)[0]


def _prefix(remote: Remote) -> str:
    """The keys under the remote's root: ``folder/`` for ``s3://bucket/folder``, all of the
    bucket for ``s3://bucket``."""
    _, _, folder = remote.root.partition("/")
    return f"{folder.strip('/')}/" if folder.strip("/") else ""


def _stale_uploads(remote: Remote, s3: S3FileSystem, older_than: float) -> Iterator[Upload]:
    """Uploads under the remote's root begun more than ``older_than`` seconds ago whose
    latest part, if any, is that old too (a large pack still going up sends parts); none
    when the remote's credentials may not list uploads."""
    bucket, prefix = _bucket(remote), _prefix(remote)
    try:
        for upload in _open_uploads(s3, bucket, prefix):
            key, upload_id = str(upload["Key"]), str(upload["UploadId"])
            if not key.startswith(prefix) or not _older(upload.get("Initiated"), older_than):
                continue
            parts = _parts(s3, bucket, key, upload_id)
            if parts is not None and all(_older(p.get("LastModified"), older_than) for p in parts):
                yield Upload(key, upload_id, sum(int(p.get("Size") or 0) for p in parts))
    except PermissionError:
        return  # not allowed to list uploads: nothing of theirs is cleared, the rest of gc runs
    except Exception as exc:
        raise remote.failure(exc, "list its unfinished uploads") from exc


def _open_uploads(s3: S3FileSystem, bucket: str, prefix: str) -> Iterator[Mapping[str, Any]]:
    """Every open multipart upload of keys starting with ``prefix``, page after page."""
    markers: dict[str, str] = {}
    while True:
        page = s3.call_s3("list_multipart_uploads", Bucket=bucket, Prefix=prefix, **markers)
        yield from page.get("Uploads") or []
        if not page.get("IsTruncated"):
            return
        markers = {
            "KeyMarker": page.get("NextKeyMarker") or "",
            "UploadIdMarker": page.get("NextUploadIdMarker") or "",
        }


def _parts(
    s3: S3FileSystem, bucket: str, key: str, upload_id: str
) -> list[Mapping[str, Any]] | None:
    """The parts an upload holds so far; None when it is gone since it was listed."""
    parts: list[Mapping[str, Any]] = []
    marker = 0
    while True:
        try:
            page = s3.call_s3(
                "list_parts", Bucket=bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker
            )
        except FileNotFoundError:
            return None  # completed or aborted meanwhile
        parts.extend(page.get("Parts") or [])
        if not page.get("IsTruncated"):
            return parts
        marker = int(page.get("NextPartNumberMarker") or 0)


def _older(stamp: object, seconds: float) -> bool:
    """Whether a server's time stamp is more than ``seconds`` ago; one it does not give is
    taken as recent (nothing is removed on a guess)."""
    since = age({"mtime": stamp})
    return since is not None and since > seconds
