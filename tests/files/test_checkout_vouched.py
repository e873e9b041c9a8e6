"""Checkout hashes a cached object only when the state cache cannot vouch for it: an object
verified before and untouched since (same inode, size, mtime and ctime) is copied without being
hashed again; one written in place is hashed again and refused; small objects are hashed as
they are copied, every time. With ``cache.jobs`` above one, files are created on several
threads, and a failure on one leaves nothing behind from the others."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

import strata.objects.links
from factories import WorkspaceFactory, b3, commit_all, corrupt, snapshot, write
from strata.config import set_value
from strata.errors import ObjectCorruptError
from strata.files.staging import _CHUNK, VOUCH_MIN_SIZE

LARGE = {f"large-{i}.bin": bytes([i]) * (VOUCH_MIN_SIZE + 100 * i) for i in range(4)}
SMALL = {f"small-{i}.txt": f"row {i}\n".encode() for i in range(3)}


class HashChecks:
    """Counts the objects whose bytes were hashed and compared with their name."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = strata.objects.links._check_hash

        def counting(digest: str, expect: str) -> None:
            self.count += 1
            real(digest, expect)

        monkeypatch.setattr(strata.objects.links, "_check_hash", counting)


def _tracked(
    make_workspace: WorkspaceFactory, cache_type: str, files: dict[str, bytes], jobs: int = 1
) -> Path:
    ws = make_workspace(cache_type=cache_type)
    set_value(ws.root, "cache.jobs", str(jobs))
    for rel, data in files.items():
        write(ws.root / "data" / rel, data)
    ws.files.add(["data"])
    commit_all(ws.root, "data")
    return ws.root


def _restore(make_workspace: WorkspaceFactory, root: Path) -> None:
    """Delete the folder and check it out, as a new process."""
    shutil.rmtree(root / "data")
    make_workspace.open(root).files.checkout()


def test_an_object_verified_once_is_not_hashed_again(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tracked(make_workspace, "copy", LARGE)
    checks = HashChecks(monkeypatch)
    _restore(make_workspace, root)
    assert checks.count == len(LARGE)  # first checkout: every object read and verified
    checks.count = 0
    _restore(make_workspace, root)
    assert checks.count == 0
    for rel, data in LARGE.items():
        assert (root / "data" / rel).read_bytes() == data


def test_small_objects_are_hashed_as_they_are_copied_every_time(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tracked(make_workspace, "copy", {**LARGE, **SMALL})
    _restore(make_workspace, root)
    checks = HashChecks(monkeypatch)
    _restore(make_workspace, root)
    assert checks.count == len(SMALL)


@pytest.mark.parametrize("cache_type", ["copy", "hardlink"])
def test_an_object_written_in_place_after_it_was_verified_is_caught(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    """Writing a file changes its ctime, even when its mtime is set back afterwards."""
    root = _tracked(make_workspace, cache_type, LARGE)
    _restore(make_workspace, root)  # verified: the state cache now vouches for every object
    shutil.rmtree(root / "data")
    obj = make_workspace.open(root).store.path(b3(LARGE["large-2.bin"]))
    before = obj.stat()
    corrupt(obj, b"\xff")  # same size
    os.chmod(obj, stat.S_IMODE(before.st_mode))
    os.utime(obj, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert obj.stat().st_mtime_ns == before.st_mtime_ns
    unchanged = snapshot(root)
    with pytest.raises(ObjectCorruptError) as info:
        make_workspace.open(root).files.checkout()
    assert "data" in info.value.message
    assert snapshot(root) == unchanged


def test_many_files_over_threads_restore_every_file(make_workspace: WorkspaceFactory) -> None:
    files = {
        f"part-{i % 7}/sub-{i % 3}/f-{i:04d}.txt": f"{i}\n".encode() for i in range(_CHUNK * 5)
    }
    root = _tracked(make_workspace, "copy", files, jobs=3)
    shutil.rmtree(root / "data")
    [result] = make_workspace.open(root).files.checkout()
    assert result.written == len(files)
    found = {
        p.relative_to(root / "data").as_posix(): p.read_bytes()
        for p in (root / "data").rglob("*")
        if p.is_file()
    }
    assert found == files
    assert [s.state for s in make_workspace.open(root).files.status()] == ["unchanged"]


def test_a_corrupt_object_on_one_thread_leaves_nothing_from_the_others(
    make_workspace: WorkspaceFactory,
) -> None:
    files = {f"part-{i % 7}/f-{i:04d}.txt": f"{i}\n".encode() for i in range(_CHUNK * 5)}
    root = _tracked(make_workspace, "copy", files, jobs=3)
    shutil.rmtree(root / "data")
    corrupt(make_workspace.open(root).store.path(b3(files["part-3/f-0150.txt"])), b"X")
    before = snapshot(root)
    with pytest.raises(ObjectCorruptError):
        make_workspace.open(root).files.checkout()
    assert snapshot(root) == before  # no file, temp file or folder left
