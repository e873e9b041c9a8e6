"""Checkout stages every file, verified, in a temp file beside it (a folder not there at all:
in a temp folder beside it) before anything is renamed into place: an object found corrupt or
missing while it is copied leaves the workspace as it was, and a verified copy checks small
files (read once) and large ones (copy_file_range) alike."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from factories import WorkspaceFactory, b3, commit_all, corrupt, snapshot, write
from strata.errors import ObjectCorruptError, ObjectMissingError
from strata.objects.links import KERNEL_COPY_MIN_SIZE, ContentMismatch, copy_checked
from strata.objects.store import ObjectStore

FILES = {f"part-{i % 3}/file-{i:02d}.bin": f"content {i}\n".encode() for i in range(30)}


def _tracked_folder(make_workspace: WorkspaceFactory, cache_type: str) -> Path:
    ws = make_workspace(cache_type=cache_type)
    for rel, data in FILES.items():
        write(ws.root / "raw" / rel, data)
    ws.files.add(["raw"])
    commit_all(ws.root, "raw")
    shutil.rmtree(ws.root / "raw")
    return ws.root


@pytest.mark.parametrize("cache_type", ["copy", "hardlink"])
def test_a_corrupt_object_found_while_copying_leaves_nothing_behind(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    root = _tracked_folder(make_workspace, cache_type)
    ws = make_workspace.open(root)
    corrupt(ws.store.path(b3(FILES["part-2/file-29.bin"])), b"X")  # same size: stat alike
    before = snapshot(root)
    with pytest.raises(ObjectCorruptError) as info:
        ws.files.checkout()
    assert "raw" in info.value.message
    assert snapshot(root) == before  # no file, no temp file, no folder made for them


def test_a_missing_object_leaves_nothing_behind(make_workspace: WorkspaceFactory) -> None:
    root = _tracked_folder(make_workspace, "copy")
    ws = make_workspace.open(root)
    os.unlink(ws.store.path(b3(FILES["part-1/file-13.bin"])))
    before = snapshot(root)
    with pytest.raises(ObjectMissingError):
        ws.files.checkout()
    assert snapshot(root) == before


def test_checkout_of_a_deleted_folder_restores_every_file(make_workspace: WorkspaceFactory) -> None:
    root = _tracked_folder(make_workspace, "copy")
    ws = make_workspace.open(root)
    [result] = ws.files.checkout()
    assert result.written == len(FILES)
    for rel, data in FILES.items():
        assert (root / "raw" / rel).read_bytes() == data
    leftovers = [p.name for p in (root / "raw").rglob("*") if p.name.endswith(".strata-tmp")]
    assert leftovers == []
    assert [s.state for s in ws.files.status()] == ["unchanged"]


@pytest.mark.parametrize("size", [0, 4096, KERNEL_COPY_MIN_SIZE + 12345])
def test_a_verified_copy_checks_the_bytes(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    src = tmp_path / "src"
    src.write_bytes(data)
    copy_checked(src, tmp_path / "good", durable=False, expect=b3(data))
    assert (tmp_path / "good").read_bytes() == data
    with pytest.raises(ContentMismatch):
        copy_checked(src, tmp_path / "bad", durable=False, expect=b3(data + b"!"))


def test_an_interrupted_checkout_of_a_deleted_folder_leaves_no_part_of_it(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder not there at all is filled in a temp folder and renamed into place whole."""
    root = _tracked_folder(make_workspace, "copy")
    ws = make_workspace.open(root)
    real = ObjectStore.place_verified
    calls = []

    def interrupted(self: ObjectStore, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 20:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ObjectStore, "place_verified", interrupted)
    before = snapshot(root)
    with pytest.raises(KeyboardInterrupt):
        ws.files.checkout()
    assert snapshot(root) == before  # no raw/, and no temp folder beside it


def test_a_temp_folder_left_by_a_crash_is_removed_by_the_next_checkout(
    make_workspace: WorkspaceFactory,
) -> None:
    root = _tracked_folder(make_workspace, "copy")
    leftover = root / ".raw.0123abcd.strata-tmp"
    write(leftover / "part-1" / "file-01.bin", b"half")
    [result] = make_workspace.open(root).files.checkout()
    assert result.written == len(FILES)
    assert not leftover.exists()
    assert {rel: (root / "raw" / rel).read_bytes() for rel in FILES} == FILES
    assert [s.state for s in make_workspace.open(root).files.status()] == ["unchanged"]
