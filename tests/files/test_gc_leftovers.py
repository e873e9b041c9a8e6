"""``gc --cloud`` clears what killed pushes leave on a remote once it is an hour old: files in
a folder remote's ``tmp/``, and multipart uploads left open under an S3 remote's root (never
those of other prefixes of the bucket); --dry-run only counts them."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from factories import Cli, WorkspaceFactory, b3, commit_all, write
from strata import Workspace

PREFIX = "store"  # the S3 remote's folder in the bucket
TWO_HOURS = 7200


def _pushed(make_workspace: WorkspaceFactory, url: str, options: dict[str, str]) -> Workspace:
    ws = make_workspace()
    ws.remotes.add("shared", url, default=True)
    for key, value in options.items():
        ws.remotes.modify("shared", key, value)
    write(ws.root / "a.txt", "first file")
    ws.files.add(["a.txt"])
    commit_all(ws.root, "data")
    ws.remotes.push()
    return ws


def _aged(path: Path, data: bytes) -> Path:
    """A file last written two hours ago."""
    path.write_bytes(data)
    then = path.stat().st_mtime - TWO_HOURS
    os.utime(path, (then, then))
    return path


def test_gc_cloud_removes_old_temporary_files_of_a_folder_remote(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    remote = tmp_path / "remote"
    ws = _pushed(make_workspace, str(remote), {})
    tmp = remote / "tmp"
    tmp.mkdir(exist_ok=True)
    old = [
        _aged(tmp / f"{b3(b'killed')}.pack.tmp", b"a pack half written"),
        _aged(tmp / f"{b3(b'staged')}.idx.tmp", b"an index never renamed"),
        _aged(tmp / "0123456789abcdef.tmp", b"a marker never renamed"),
    ]
    fresh = tmp / f"{b3(b'going')}.pack.tmp"
    fresh.write_bytes(b"a pack a push is writing now")

    dry = cli("gc", "--cloud", "--dry-run", "--json", cwd=ws.root)
    assert dry.code == 0, dry.stderr
    assert dry.json()["temp_files_removed"] == 3  # type: ignore[index]
    assert dry.json()["uploads_aborted"] == 0  # type: ignore[index]
    assert all(p.exists() for p in old) and fresh.exists(), "a dry run removes nothing"

    out = cli("gc", "--cloud", cwd=ws.root)
    assert out.code == 0, out.stderr
    assert "3 temporary files removed" in out.stdout, out.stdout
    assert not any(p.exists() for p in old)
    assert fresh.exists(), "a push still writing keeps its file"
    assert ws.remotes.verify().ok
    assert ws.remotes.gc().temp_files_removed == 0


# -- S3: multipart uploads left open -------------------------------------------------------------
@pytest.fixture
def s3(s3_endpoint: str, s3_bucket: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint)


def _begin(s3: Any, bucket: str, key: str, part: bytes | None = None) -> str:
    """Begin a multipart upload of ``key``, sending ``part`` as its first part if given."""
    upload_id = str(s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"])
    if part is not None:
        s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=part)
    return upload_id


def _open_uploads(s3: Any, bucket: str) -> set[str]:
    return {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}


@pytest.mark.slow
def test_gc_cloud_aborts_only_stale_uploads_under_the_remote_root(
    make_workspace: WorkspaceFactory, s3_endpoint: str, s3_bucket: str, s3: Any, cli: Cli
) -> None:
    ws = _pushed(make_workspace, f"s3://{s3_bucket}/{PREFIX}", {"endpoint_url": s3_endpoint})
    # Ages come from the server: an upload is as old as its start, or its latest part when it
    # has parts. The loopback server dates every upload's start to 2010, and each part to when
    # it arrived: an upload with no part is years old, one that just got a part is fresh.
    stale = _begin(s3, s3_bucket, f"{PREFIX}/packs/{b3(b'killed')}.pack")
    fresh = _begin(s3, s3_bucket, f"{PREFIX}/packs/{b3(b'going')}.pack", part=b"first part")
    others = _begin(s3, s3_bucket, f"other/packs/{b3(b'theirs')}.pack")
    started = {
        u["UploadId"]: u["Initiated"]
        for u in s3.list_multipart_uploads(Bucket=s3_bucket)["Uploads"]
    }
    for upload in (stale, others):  # as the server dates them: the test relies on it
        assert time.time() - started[upload].timestamp() > TWO_HOURS

    dry = cli("gc", "--cloud", "--dry-run", "--json", cwd=ws.root)
    assert dry.code == 0, dry.stderr
    assert dry.json()["uploads_aborted"] == 1  # type: ignore[index]
    assert dry.json()["temp_files_removed"] == 0  # type: ignore[index]
    assert _open_uploads(s3, s3_bucket) == {stale, fresh, others}, "a dry run aborts nothing"

    out = cli("gc", "--cloud", cwd=ws.root)
    assert out.code == 0, out.stderr
    assert "1 uploads aborted" in out.stdout, out.stdout
    assert _open_uploads(s3, s3_bucket) == {fresh, others}
    assert ws.remotes.verify().ok
    assert ws.remotes.gc().uploads_aborted == 0


@pytest.mark.slow
def test_gc_cloud_runs_when_the_remote_may_not_list_uploads(
    make_workspace: WorkspaceFactory, s3_endpoint: str, s3_bucket: str, s3: Any, cli: Cli
) -> None:
    """Credentials without the right to list multipart uploads: the rest of gc still runs,
    and no upload is touched."""
    from s3_proxy import refusing_proxy

    stale = _begin(s3, s3_bucket, f"{PREFIX}/packs/{b3(b'killed')}.pack")
    with refusing_proxy(
        s3_endpoint,
        lambda request, traffic: False,
        refuse_read=lambda request: "uploads" in request.query,
    ) as proxy:
        ws = _pushed(make_workspace, f"s3://{s3_bucket}/{PREFIX}", {"endpoint_url": proxy.endpoint})
        out = cli("gc", "--cloud", "--json", cwd=ws.root)
        assert out.code == 0, out.stderr
        assert out.json()["uploads_aborted"] == 0  # type: ignore[index]
        assert any("uploads" in r.query for r in proxy.traffic.refused)  # it was asked, refused
    assert stale in _open_uploads(s3, s3_bucket)
