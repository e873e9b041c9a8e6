"""Faults while pushing to an S3-protocol remote (the loopback moto server): a push killed
while a pack goes up in parts, and a server that starts refusing writes part-way.

A pack larger than an upload block goes up as a multipart upload. Whatever stops it, no index
on the remote names a pack that is not there whole; a push that fails aborts its multipart
uploads and leaves nothing in the local spool (a killed one cannot, and its open uploads
never count); pushing again completes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import strata.objects.remote as remote_module
from factories import (
    WorkspaceFactory,
    assert_one_line_error,
    commit_all,
    file_hashes,
    run_strata,
    write,
)
from interrupt_support import interrupt_when
from s3_proxy import Proxy, Request, Rule, Traffic, refusing_proxy
from strata import Workspace
from strata.errors import RemoteError, StorageError
from strata.objects.packs import PackIndex

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
PREFIX = "store"  # the remote's folder in the bucket


def _write_files(folder: Path, count: int) -> dict[str, str]:
    """``count`` different files of 1 MiB: each small enough to go into a pack whole."""
    block = os.urandom(MiB)
    for i in range(count):
        write(folder / f"part-{i:03d}.bin", i.to_bytes(4, "big") + block[4:])
    return file_hashes(folder)


def _workspace(
    make_workspace: WorkspaceFactory, bucket: str, endpoint: str, files: int, pack_size: int
) -> tuple[Workspace, dict[str, str]]:
    ws = make_workspace(cache_type="copy")
    expected = _write_files(ws.root / "raw", files)
    ws.files.add(["raw"])
    ws.remotes.add("shared", f"s3://{bucket}/{PREFIX}", default=True)
    ws.remotes.modify("shared", "endpoint_url", endpoint)
    ws.remotes.modify("shared", "pack_size", str(pack_size))
    commit_all(ws.root, "raw")
    return ws, expected


@pytest.fixture
def s3(s3_endpoint: str, s3_bucket: str) -> Any:
    """A client of the S3 server, straight to it (no proxy)."""
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint)


def _open_uploads(s3: Any, bucket: str) -> dict[str, int]:
    """The multipart uploads open on the bucket: upload id → parts received."""
    found: dict[str, int] = {}
    for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        key, upload_id = upload["Key"], upload["UploadId"]
        try:
            parts = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id).get("Parts", [])
        except s3.exceptions.NoSuchUpload:
            continue  # completed or aborted since the listing
        found[upload_id] = len(parts)
    return found


def _pack_files(s3: Any, bucket: str) -> dict[str, int]:
    """The files under the remote's packs folder: name → size."""
    found = s3.list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}/packs/").get("Contents", [])
    return {o["Key"].rsplit("/", 1)[1]: o["Size"] for o in found}


def _published(s3: Any, bucket: str) -> int:
    return sum(name.endswith(".idx") for name in _pack_files(s3, bucket))


def _assert_indexes_name_whole_packs(s3: Any, bucket: str) -> int:
    """Every index on the bucket names a pack that is there, as long as the index says;
    returns how many indexes there are."""
    files = _pack_files(s3, bucket)
    indexes = [n.removesuffix(".idx") for n in files if n.endswith(".idx")]
    for pack in indexes:
        key = f"{PREFIX}/packs/{pack}.idx"
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        index = PackIndex.from_bytes(data, what=key)
        assert index.name == pack, "the index is the one its name says"
        assert files.get(f"{pack}.pack") == index.size, f"pack {pack[:12]} is not there whole"
    return len(indexes)


def _spooled(ws: Workspace) -> list[Path]:
    """Pack files left in the local spool (the cache's temp folder)."""
    spool = ws.config.cache_dir / "tmp"
    return sorted(spool.iterdir()) if spool.is_dir() else []


def _assert_verifies(root: Path) -> None:
    verify = run_strata("verify", "--remote", "--json", cwd=root)
    assert verify.code == 0, verify.stdout + verify.stderr
    assert verify.json()["ok"] is True  # type: ignore[index]


# -- a push killed while a pack goes up in parts ------------------------------------------------
# Packs of a little over two upload blocks go up in three parts; three of them and a smaller
# one, so that the kill can come once a pack's index is published and another pack is going up.
KILLED_PACK = 2 * remote_module.UPLOAD_BLOCK + 2 * MiB
KILLED_FILES = 3 * KILLED_PACK // MiB + 4


def test_a_push_killed_during_a_multipart_upload_resumes(
    make_workspace: WorkspaceFactory, s3_endpoint: str, s3_bucket: str, s3: Any, tmp_path: Path
) -> None:
    ws, expected = _workspace(make_workspace, s3_bucket, s3_endpoint, KILLED_FILES, KILLED_PACK)
    packs = -(-KILLED_FILES * MiB // KILLED_PACK)

    def state() -> tuple[int, dict[str, int]]:
        return _published(s3, s3_bucket), _open_uploads(s3, s3_bucket)

    def underway() -> bool:
        """A pack's index is published, and another pack has parts up but is not complete;
        still so a moment later, when the server has handled what was sent before the stop
        (a completion, say)."""
        first = state()
        if first[0] < 1 or not any(parts >= 1 for parts in first[1].values()):
            return False
        time.sleep(0.05)
        return state() == first

    outcome = interrupt_when(
        ["push", "--jobs", "2"], ws.root, underway, signal.SIGKILL, run_for=0.01
    )
    assert outcome.code == -signal.SIGKILL, outcome
    assert _published(s3, s3_bucket) < packs, "push finished before the kill"
    assert any(_open_uploads(s3, s3_bucket).values()), "a pack was going up in parts"
    assert _assert_indexes_name_whole_packs(s3, s3_bucket) >= 1
    _assert_verifies(ws.root)

    again = run_strata("push", "--json", cwd=ws.root)
    assert again.code == 0, again.stderr
    assert again.json()["transferred"] > 0  # type: ignore[index]
    assert _assert_indexes_name_whole_packs(s3, s3_bucket) >= packs
    _assert_verifies(ws.root)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ws.root), str(clone)], check=True)
    pulled = run_strata("pull", cwd=clone)
    assert pulled.code == 0, pulled.stderr
    assert file_hashes(clone / "raw") == expected
    assert run_strata("push", "--json", cwd=ws.root).json()["transferred"] == 0  # type: ignore[index]


# -- the server refuses writes part-way --------------------------------------------------------
# Run in this process, with upload blocks of S3's smallest part size: packs of 11 MiB go up in
# three parts (5, 5 and 1 MiB), four of them, two at a time.
BLOCK = 5 * MiB
REFUSED_PACK = 2 * BLOCK + MiB
REFUSED_FILES = 4 * REFUSED_PACK // MiB


def _after_an_index(kind: Rule) -> Rule:
    """Refuse from the first request of ``kind`` that comes after an index went up."""

    def rule(request: Request, traffic: Traffic) -> bool:
        return any(r.path.endswith(".idx") for r in traffic.seen) and kind(request, traffic)

    return rule


REFUSALS: dict[str, Rule] = {
    "a pack's second part": _after_an_index(lambda r, t: r.part == 2),
    "a pack's completion": _after_an_index(lambda r, t: r.completes_upload),
    "a pack's index": _after_an_index(lambda r, t: r.path.endswith(".idx")),
}


@pytest.fixture
def refused(
    request: pytest.FixtureRequest, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Proxy]:
    monkeypatch.setattr(remote_module, "UPLOAD_BLOCK", BLOCK)
    with refusing_proxy(s3_endpoint, REFUSALS[request.param]) as proxy:
        yield proxy


@pytest.mark.parametrize("refused", REFUSALS.keys(), indirect=True)
def test_writes_refused_part_way_abort_the_uploads(
    make_workspace: WorkspaceFactory, s3_bucket: str, s3: Any, refused: Proxy
) -> None:
    ws, _ = _workspace(make_workspace, s3_bucket, refused.endpoint, REFUSED_FILES, REFUSED_PACK)

    with pytest.raises(StorageError) as info:
        ws.remotes.push()

    line = info.value.one_line()
    assert "\n" not in line
    assert "remote 'shared'" in line and "Access Denied" in line, line
    traffic = refused.traffic
    assert traffic.refused, "the server refused a write"
    assert traffic.parts_accepted >= 3, "a pack went up in parts before the refusal"
    if not traffic.refused[0].path.endswith(".idx"):
        aborts = [r for r in traffic.seen if r.method == "DELETE" and "uploadId" in r.query]
        assert aborts, "the refused upload was aborted"
    assert _open_uploads(s3, s3_bucket) == {}, "no multipart upload is left open"
    assert _assert_indexes_name_whole_packs(s3, s3_bucket) >= 1
    assert _spooled(ws) == []

    out = run_strata("push", cwd=ws.root)
    assert_one_line_error(out, RemoteError.exit_code, "remote 'shared'", "Access Denied")
    assert _open_uploads(s3, s3_bucket) == {}
    assert _spooled(ws) == []

    refused.allow()
    again = ws.remotes.push()
    assert not again.failed and len(again.transferred) > 0
    assert _open_uploads(s3, s3_bucket) == {}
    assert _assert_indexes_name_whole_packs(s3, s3_bucket) >= 4
    verified = ws.remotes.verify()
    assert verified.problems == () and verified.checked == REFUSED_FILES + 1
    assert all(s.not_pushed == 0 for s in ws.remotes.status())
