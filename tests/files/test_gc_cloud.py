"""``strata gc --cloud``: remove remote objects, manifests and chunks that no branch, tag or
working tree needs; --dry-run removes nothing; a shared remote is refused unless --force; a gc
that stops part-way leaves every remaining manifest's chunks in place."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from factories import (
    Cli,
    WorkspaceFactory,
    assert_one_line_error,
    b3,
    commit_all,
    git,
    make_folder,
    write,
)
from strata import Workspace
from strata.errors import RemoteError
from strata.objects.remote import Remote
from strata.objects.remote_listing import Listing

MiB = 1024 * 1024


def _add_remote(ws: Workspace, url: str, options: dict[str, str]) -> None:
    ws.remotes.add("shared", url, default=True)
    for key, value in {**options, "chunk_threshold": str(MiB)}.items():
        ws.remotes.modify("shared", key, value)


def _listing(ws: Workspace) -> Listing:
    return ws.remotes.open().listing()


def _assert_consistent(remote: Remote) -> None:
    """Every manifest on the remote names only chunks that are there."""
    listing = remote.listing()
    for name in listing.chunked:
        for chunk in remote.manifest(name).chunks:
            assert chunk.hash in listing.names, f"manifest {name[:12]} lost chunk {chunk.hash[:12]}"


def _stored(listing: Listing) -> int:
    """Bytes the remote holds: loose files and packs."""
    loose = sum(listing.files.values()) + sum(listing.manifests.values())
    return loose + sum(index.size for index in listing.packs.values())


def _push_orphan(ws: Workspace, path: str, data: bytes) -> str:
    """Push a version of ``path`` that no commit keeps, then give it up; its hash."""
    if (ws.root / path).is_dir():
        shutil.rmtree(ws.root / path)
    write(ws.root / path, data)
    ws.files.add([path])
    ws.remotes.push([path])
    ws.files.checkout([path], rev="HEAD", force=True)
    return b3(data)


def _history(ws: Workspace, remote: tuple[str, dict[str, str]]) -> dict[str, bytes]:
    """v1 of big.bin (chunked) tagged, v2 on main with a folder; pushed; plus orphans: a
    changed big.bin sharing most chunks with v2, and a small file."""
    _add_remote(ws, *remote)
    big_v1 = os.urandom(3 * MiB)
    write(ws.root / "big.bin", big_v1)
    write(ws.root / "small.txt", "small v1")
    ws.files.add(["big.bin", "small.txt"])
    commit_all(ws.root, "v1")
    git(ws.root, "tag", "v1.0")
    ws.remotes.push()
    big_v2 = big_v1[: 2 * MiB] + os.urandom(256 * 1024) + big_v1[2 * MiB + 256 * 1024 :]
    write(ws.root / "big.bin", big_v2)
    make_folder(ws.root / "raw", {"a.csv": "1\n", "b.csv": "2\n"})
    ws.files.add(["big.bin", "raw"])
    commit_all(ws.root, "v2")
    ws.remotes.push()
    orphan_big = big_v2[:MiB] + os.urandom(512 * 1024) + big_v2[MiB + 512 * 1024 :]
    _push_orphan(ws, "big.bin", orphan_big)
    _push_orphan(ws, "small.txt", b"orphan small")
    return {"v1": big_v1, "v2": big_v2, "orphan": orphan_big}


def test_gc_cloud_removes_only_what_no_ref_needs(
    make_workspace: WorkspaceFactory, remote_url: tuple[str, dict[str, str]]
) -> None:
    ws = make_workspace()
    bigs = _history(ws, remote_url)
    before = _listing(ws)
    assert b3(bigs["orphan"]) in before.chunked

    dry = ws.remotes.gc(dry_run=True)
    assert set(dry.removed) == {b3(bigs["orphan"]), b3(b"orphan small")}
    assert dry.chunks_removed >= 1 and dry.bytes_freed > 0
    assert _listing(ws) == before, "a dry run removes nothing"

    done = ws.remotes.gc()
    assert (done.removed, done.chunks_removed) == (dry.removed, dry.chunks_removed)
    after = _listing(ws)
    assert b3(bigs["orphan"]) not in after.names
    assert b3(b"orphan small") not in after.names
    assert {b3(bigs["v1"]), b3(bigs["v2"]), b3(b"small v1")} <= set(after.names)
    assert after.repositories == before.repositories
    _assert_consistent(ws.remotes.open())
    assert _stored(after) < _stored(before), "the orphan's own chunks are gone"
    assert ws.remotes.verify().ok
    assert ws.remotes.gc().removed == (), "a second gc finds nothing more"

    clone = make_workspace.open(_clone(ws, "clone"))
    clone.remotes.pull()
    assert (clone.root / "big.bin").read_bytes() == bigs["v2"]
    git(clone.root, "checkout", "-q", "v1.0")
    clone.remotes.pull(force=True)
    assert (clone.root / "big.bin").read_bytes() == bigs["v1"]


def _clone(ws: Workspace, name: str) -> Path:
    clone = ws.root.parent / name
    git(ws.root.parent, "clone", "-q", str(ws.root), str(clone))
    return clone


def test_a_fresh_clone_reads_listings_from_the_remote(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    ws = make_workspace()
    _add_remote(ws, str(tmp_path / "remote"), {})
    make_folder(ws.root / "raw", {"a.csv": "1\n", "b.csv": "2\n"})
    ws.files.add(["raw"])
    commit_all(ws.root, "raw")
    ws.remotes.push()
    orphan = _push_orphan(ws, "raw", b"not a folder any more")
    commit_all(ws.root, "remote")
    clone = make_workspace.open(_clone(ws, "clone"))  # its cache is empty
    result = clone.remotes.gc()
    assert result.removed == (orphan,)
    assert clone.remotes.pull()[0].failed == ()
    assert (clone.root / "raw" / "b.csv").read_text() == "2\n"


def test_gc_cloud_keeps_what_gc_is_told_to_keep(
    make_workspace: WorkspaceFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace()
    _add_remote(ws, str(tmp_path / "remote"), {})
    write(ws.root / "model.bin", "weights")
    ws.files.add(["model.bin"])
    commit_all(ws.root, "model")
    ws.remotes.push()
    kept = _push_orphan(ws, "model.bin", b"a registered model's artifact")
    monkeypatch.setattr(Workspace, "_kept_objects", lambda self: [kept])
    assert ws.remotes.gc().removed == ()
    assert kept in _listing(ws).names


def test_a_kept_folder_only_the_remote_lists_keeps_its_files(
    make_workspace: WorkspaceFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace()
    _add_remote(ws, str(tmp_path / "remote"), {})
    write(ws.root / "notes.txt", "notes")
    ws.files.add(["notes.txt"])
    commit_all(ws.root, "notes")
    ws.remotes.push()
    make_folder(ws.root / "model", {"weights.bin": "w", "config.json": "{}"})
    [added] = ws.files.add(["model"])
    ws.remotes.push(["model"])
    shutil.rmtree(ws.root / "model")
    (ws.root / "model.strata").unlink()
    ws.store.remove(added.hash)  # the listing is on the remote only
    monkeypatch.setattr(Workspace, "_kept_objects", lambda self: [added.hash])
    assert ws.remotes.gc().removed == ()
    assert {b3(b"w"), b3(b"{}"), added.hash} <= _listing(ws).names


def test_a_shared_remote_is_refused_unless_forced(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    remote = tmp_path / "remote"
    other = make_workspace("other")
    _add_remote(other, str(remote), {})
    write(other.root / "theirs.csv", "their data")
    other.files.add(["theirs.csv"])
    commit_all(other.root, "theirs")
    other.remotes.push()

    shutil.rmtree(remote / "repos")  # as if an older Strata had pushed: no markers

    ws = make_workspace("ws")
    _add_remote(ws, str(remote), {})
    commit_all(ws.root, "remote")
    before = _listing(ws)
    with pytest.raises(RemoteError, match="never pushed"):
        ws.remotes.gc()  # objects there, and no marker of this repository
    other.remotes.push()  # writes its marker again
    write(ws.root / "mine.csv", "my data")
    ws.files.add(["mine.csv"])
    commit_all(ws.root, "mine")
    ws.remotes.push()
    out = cli("gc", "--cloud", cwd=ws.root)
    assert_one_line_error(out, RemoteError.exit_code, "shared", "--force")
    assert _listing(ws).names == before.names | {b3(b"my data")}, "nothing was removed"

    forced = cli("gc", "--cloud", "--force", "--json", cwd=ws.root)
    assert forced.code == 0, forced.stderr
    assert forced.json()["removed"] == [b3(b"their data")]  # type: ignore[index]
    assert _listing(ws).names == {b3(b"my data")}


class _Stop(Exception):
    pass


def test_an_interrupted_gc_leaves_the_remote_consistent(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    ws = make_workspace()
    bigs = _history(ws, (str(tmp_path / "remote"), {}))
    for n in range(3):  # more orphans: more manifests and chunks to remove
        big = bigs["v2"][: n * 512 * 1024] + os.urandom(300 * 1024) + bigs["v2"][MiB * 2 :]
        _push_orphan(ws, "big.bin", big)
    expected = ws.remotes.gc(dry_run=True)
    total = len(expected.removed) + expected.chunks_removed

    def stop_after_one(_: int) -> None:
        raise _Stop

    interruptions = 0
    while True:
        try:
            ws.remotes.gc(progress=stop_after_one)
            break
        except _Stop:
            interruptions += 1
            _assert_consistent(ws.remotes.open())
        assert interruptions <= total
    assert interruptions >= 2
    listing = _listing(ws)
    assert not set(expected.removed) & listing.names
    _assert_consistent(ws.remotes.open())
    assert ws.remotes.verify().ok


def test_gc_cloud_cli_dry_run_prints_and_keeps(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    ws = make_workspace()
    _add_remote(ws, str(tmp_path / "remote"), {})
    write(ws.root / "data.csv", "kept")
    ws.files.add(["data.csv"])
    commit_all(ws.root, "data")
    ws.remotes.push()
    orphan = _push_orphan(ws, "data.csv", b"orphan")
    out = cli("gc", "--cloud", "-r", "shared", "--dry-run", cwd=ws.root)
    assert out.code == 0, out.stderr
    assert "would remove 1 objects" in out.stdout
    assert "(packs: 1 to remove, 0 to rewrite)" in out.stdout
    assert orphan in _listing(ws).names
    assert_one_line_error(cli("gc", "--cloud", "-r", "nope", cwd=ws.root), 2, "nope")
    out = cli("gc", "--cloud", "--workspace", cwd=ws.root)
    assert_one_line_error(out, 2, "--workspace")
    assert orphan in _listing(ws).names
