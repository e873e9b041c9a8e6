"""``strata checkout``: restore from pointers or from a git revision, never discarding unsaved
work without --force."""

from __future__ import annotations

import os
import shutil
import stat
import tomllib

import pytest

from factories import (
    Cli,
    WorkspaceFactory,
    assert_one_line_error,
    b3,
    commit_all,
    corrupt,
    file_hashes,
    git,
    make_folder,
    snapshot,
    statuses,
    write,
)
from strata import Workspace
from strata.errors import ObjectCorruptError, UncommittedChangesError

V1 = {"a.csv": "1\n", "b.csv": "2\n", "sub/c.csv": "3\n"}
V2 = {"a.csv": "1\n", "b.csv": "2 changed\n", "sub/d.csv": "4\n"}

pytestmark = pytest.mark.parametrize("cache_type", ["hardlink", "copy"])


def _two_versions(make_workspace: WorkspaceFactory, cache_type: str) -> Workspace:
    """model.bin and raw/ committed twice: HEAD~1 holds V1, HEAD holds V2."""
    ws = make_workspace(cache_type=cache_type)
    write(ws.root / "model.bin", "weights v1")
    make_folder(ws.root / "raw", V1)
    ws.files.add(["model.bin", "raw"])
    commit_all(ws.root, "v1")
    write(ws.root / "model.bin", "weights v2")
    shutil.rmtree(ws.root / "raw")
    make_folder(ws.root / "raw", V2)
    ws.files.add(["model.bin", "raw"])
    commit_all(ws.root, "v2")
    return ws


def _hashes(files: dict[str, str]) -> dict[str, str]:
    return {k: b3(v.encode()) for k, v in files.items()}


def test_restores_a_deleted_file_and_folder(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    ws = _two_versions(make_workspace, cache_type)
    (ws.root / "model.bin").unlink()
    shutil.rmtree(ws.root / "raw")
    results = ws.files.checkout()
    assert {r.path: r.written for r in results} == {"model.bin": 1, "raw": 3}
    assert (ws.root / "model.bin").read_text() == "weights v2"
    assert file_hashes(ws.root / "raw") == _hashes(V2)
    assert set(statuses(ws).values()) == {"unchanged"}


def test_restores_files_deleted_inside_a_folder(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    ws = _two_versions(make_workspace, cache_type)
    (ws.root / "raw" / "sub" / "d.csv").unlink()
    ws.files.checkout(["raw"])
    assert file_hashes(ws.root / "raw") == _hashes(V2)


def test_rev_brings_back_the_previous_version_and_its_pointers(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    ws = _two_versions(make_workspace, cache_type)
    ws.files.checkout(rev="HEAD~1")
    assert (ws.root / "model.bin").read_text() == "weights v1"
    assert file_hashes(ws.root / "raw") == _hashes(V1)
    for pointer in ("model.bin.strata", "raw.strata"):
        assert (ws.root / pointer).read_text() == git(ws.root, "show", f"HEAD~1:{pointer}")
    assert set(statuses(ws).values()) == {"unchanged"}
    assert git(ws.root, "status", "--porcelain").split() == [
        "M",
        "model.bin.strata",
        "M",
        "raw.strata",
    ]


def test_rev_of_one_path_leaves_the_others(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    ws = _two_versions(make_workspace, cache_type)
    ws.files.checkout(["raw"], rev="HEAD~1")
    assert file_hashes(ws.root / "raw") == _hashes(V1)
    assert (ws.root / "model.bin").read_text() == "weights v2"
    assert (ws.root / "model.bin.strata").read_text() == git(
        ws.root, "show", "HEAD:model.bin.strata"
    )


def test_rev_then_back_to_head(make_workspace: WorkspaceFactory, cache_type: str) -> None:
    ws = _two_versions(make_workspace, cache_type)
    ws.files.checkout(rev="HEAD~1")
    ws.files.checkout(rev="HEAD")
    assert (ws.root / "model.bin").read_text() == "weights v2"
    assert file_hashes(ws.root / "raw") == _hashes(V2)
    assert git(ws.root, "status", "--porcelain") == ""


def test_refuses_to_overwrite_an_unsaved_file(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    ws = _two_versions(make_workspace, cache_type)
    write(ws.root / "model.bin", "retrained, not added")
    before = snapshot(ws.root)
    with pytest.raises(UncommittedChangesError) as info:
        ws.files.checkout(rev="HEAD~1")
    assert "model.bin" in info.value.message
    assert "--force" in info.value.one_line()
    assert snapshot(ws.root) == before


def test_refuses_to_drop_an_unsaved_file_in_a_folder(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    ws = _two_versions(make_workspace, cache_type)
    (ws.root / "model.bin").unlink()  # would be restored, but the refusal comes first
    write(ws.root / "raw" / "extra.csv", "new rows\n")
    before = snapshot(ws.root)
    with pytest.raises(UncommittedChangesError) as info:
        ws.files.checkout()
    assert "raw/extra.csv" in info.value.message
    assert snapshot(ws.root) == before


def test_cli_refusal_is_one_line_with_exit_5(
    make_workspace: WorkspaceFactory, cli: Cli, cache_type: str
) -> None:
    ws = _two_versions(make_workspace, cache_type)
    write(ws.root / "raw" / "b.csv", "edited, not added\n")
    before = snapshot(ws.root)
    out = cli("checkout", "--rev", "HEAD~1", cwd=ws.root)
    assert_one_line_error(out, 5, "raw/b.csv", "--force")
    assert snapshot(ws.root) == before


def test_force_overwrites_unsaved_changes(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    ws = _two_versions(make_workspace, cache_type)
    write(ws.root / "model.bin", "retrained, not added")
    write(ws.root / "raw" / "extra.csv", "new rows\n")
    write(ws.root / "raw" / "a.csv", "edited\n")
    ws.files.checkout(force=True)
    assert (ws.root / "model.bin").read_text() == "weights v2"
    assert file_hashes(ws.root / "raw") == _hashes(V2)
    assert set(statuses(ws).values()) == {"unchanged"}


def test_a_change_already_in_the_cache_is_not_unsaved(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    ws = _two_versions(make_workspace, cache_type)
    write(ws.root / "model.bin", "weights v1")  # the content of HEAD~1: kept in the cache
    ws.files.checkout()
    assert (ws.root / "model.bin").read_text() == "weights v2"


def test_unchanged_workspace_writes_nothing(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    ws = _two_versions(make_workspace, cache_type)
    before = snapshot(ws.root)
    results = ws.files.checkout()
    assert [(r.written, r.removed) for r in results] == [(0, 0), (0, 0)]
    assert snapshot(ws.root) == before


def test_checkout_json(make_workspace: WorkspaceFactory, cli: Cli, cache_type: str) -> None:
    ws = _two_versions(make_workspace, cache_type)
    out = cli("checkout", "--rev", "HEAD~1", "--json", cwd=ws.root)
    assert out.code == 0, out.stderr
    assert out.json() == [
        {"path": "model.bin", "kind": "file", "written": 1, "removed": 0},
        {"path": "raw", "kind": "directory", "written": 2, "removed": 1},
    ]


def test_checkout_of_a_corrupt_object_refuses_to_restore_it(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    """Reads verify hashes (DESIGN): a rotten cached object is reported, not restored."""
    ws = _two_versions(make_workspace, cache_type)
    (ws.root / "model.bin").unlink()
    corrupt(ws.store.path(b3(b"weights v2")))
    with pytest.raises(ObjectCorruptError) as info:
        ws.files.checkout()
    assert "model.bin" in info.value.message
    assert not (ws.root / "model.bin").exists()


def test_checkout_detects_bit_rot_that_keeps_the_file_stat(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    """An object written in place with its mtime set back is still caught: a small one is
    hashed as it is copied (large ones: test_checkout_vouched)."""
    ws = _two_versions(make_workspace, cache_type)
    (ws.root / "model.bin").unlink()
    obj = ws.store.path(b3(b"weights v2"))
    before = obj.stat()
    corrupt(obj, b"W")  # same size
    os.chmod(obj, stat.S_IMODE(before.st_mode))
    os.utime(obj, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(ObjectCorruptError) as info:
        make_workspace.open(ws.root).files.checkout()
    assert "model.bin" in info.value.message
    assert not (ws.root / "model.bin").exists()


def test_checkout_of_a_corrupt_listing_is_an_object_corrupt_error(
    make_workspace: WorkspaceFactory, cache_type: str
) -> None:
    ws = _two_versions(make_workspace, cache_type)
    shutil.rmtree(ws.root / "raw")
    listing = ws.store.path(_pointer_hash(ws, "raw"))
    corrupt(listing, b'{"format":1,"files":[["../escape.csv","' + b"a" * 64 + b'",1]]}')
    before = snapshot(ws.root)
    with pytest.raises(ObjectCorruptError) as info:
        ws.files.checkout()
    assert "raw" in info.value.message
    assert snapshot(ws.root) == before
    assert not (ws.root.parent / "escape.csv").exists()


def _pointer_hash(ws: Workspace, path: str) -> str:
    return str(tomllib.loads((ws.root / f"{path}.strata").read_text())["hash"])


ODD_NAMES = {
    "tab\there.csv": "1\n",
    "line\nbreak.csv": "2\n",
    "sub/bell\x07.csv": "3\n",
    os.fsdecode(b"caf\xe9.csv"): "4\n",  # not UTF-8
}


def test_a_folder_with_tabs_and_newlines_in_names_comes_back(
    make_workspace: WorkspaceFactory, cli: Cli, cache_type: str
) -> None:
    ws = make_workspace(cache_type=cache_type)
    make_folder(ws.root / "odd", ODD_NAMES)
    ws.files.add(["odd"])
    commit_all(ws.root, "odd names")
    assert ws.files.verify().ok
    assert statuses(ws) == {"odd": "unchanged"}
    shutil.rmtree(ws.root / "odd")
    [result] = ws.files.checkout(["odd"])
    assert result.written == len(ODD_NAMES)
    assert file_hashes(ws.root / "odd") == _hashes(ODD_NAMES)
    assert statuses(ws) == {"odd": "unchanged"}
    write(ws.root / "odd" / "line\nbreak.csv", "unsaved\n")
    out = cli("checkout", "odd", cwd=ws.root)
    assert_one_line_error(out, UncommittedChangesError.exit_code, "odd/line\\nbreak.csv")
