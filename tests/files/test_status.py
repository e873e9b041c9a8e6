"""``strata status``: unchanged, modified, missing, and what changed inside a folder."""

from __future__ import annotations

import shutil

from factories import Cli, WorkspaceFactory, make_folder, statuses, write
from strata.files import TreeChanges


def _tracked(make_workspace: WorkspaceFactory, cache_type: str = "hardlink"):  # type: ignore[no-untyped-def]
    ws = make_workspace(cache_type=cache_type)
    write(ws.root / "model.bin", b"\x00\x01" * 100)
    make_folder(
        ws.root / "raw",
        {"keep.csv": "1\n", "change.csv": "2\n", "drop.csv": "3\n", "sub/deep.csv": "4\n"},
    )
    ws.files.add(["model.bin", "raw"])
    return ws


def test_nothing_changed(make_workspace: WorkspaceFactory) -> None:
    ws = _tracked(make_workspace)
    assert statuses(ws) == {"model.bin": "unchanged", "raw": "unchanged"}


def test_modified_file(make_workspace: WorkspaceFactory) -> None:
    ws = _tracked(make_workspace)
    write(ws.root / "model.bin", b"retrained")
    assert statuses(ws) == {"model.bin": "modified", "raw": "unchanged"}


def test_same_size_edit_is_modified(make_workspace: WorkspaceFactory) -> None:
    ws = _tracked(make_workspace, "copy")
    with open(ws.root / "model.bin", "r+b") as fh:
        fh.write(b"\xff")
    assert statuses(ws)["model.bin"] == "modified"


def test_added_modified_and_deleted_inside_a_folder(make_workspace: WorkspaceFactory) -> None:
    ws = _tracked(make_workspace)
    write(ws.root / "raw" / "new.csv", "5\n")
    write(ws.root / "raw" / "sub" / "newer.csv", "6\n")
    write(ws.root / "raw" / "change.csv", "2 changed\n")
    (ws.root / "raw" / "drop.csv").unlink()
    (ws.root / "raw" / "sub" / "deep.csv").unlink()
    by_path = {s.path: s for s in ws.files.status()}
    assert by_path["raw"].state == "modified"
    assert by_path["raw"].changes == TreeChanges(
        added=("new.csv", "sub/newer.csv"),
        modified=("change.csv",),
        deleted=("drop.csv", "sub/deep.csv"),
    )
    assert by_path["model.bin"].state == "unchanged"


def test_missing_file_and_folder(make_workspace: WorkspaceFactory) -> None:
    ws = _tracked(make_workspace)
    (ws.root / "model.bin").unlink()
    shutil.rmtree(ws.root / "raw")
    assert statuses(ws) == {"model.bin": "missing", "raw": "missing"}


def test_status_of_named_paths_only(make_workspace: WorkspaceFactory) -> None:
    ws = _tracked(make_workspace)
    write(ws.root / "model.bin", b"retrained")
    assert statuses(ws, ["raw"]) == {"raw": "unchanged"}
    assert statuses(ws, ["model.bin.strata"]) == {"model.bin": "modified"}


def test_status_finds_pointers_in_subfolders(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace()
    write(ws.root / "a" / "b" / "c.csv", "1\n")
    ws.files.add(["a/b/c.csv"])
    assert statuses(ws) == {"a/b/c.csv": "unchanged"}


def test_status_json(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = _tracked(make_workspace)
    write(ws.root / "raw" / "new.csv", "5\n")
    (ws.root / "model.bin").unlink()
    out = cli("status", "--json", cwd=ws.root)
    assert out.code == 0, out.stderr
    assert out.json() == [
        {"path": "model.bin", "kind": "file", "state": "missing"},
        {
            "path": "raw",
            "kind": "directory",
            "state": "modified",
            "added": ["new.csv"],
            "modified": [],
            "deleted": [],
        },
    ]


def test_status_human_output(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = _tracked(make_workspace)
    out = cli("status", cwd=ws.root)
    assert out.code == 0
    assert "matches its pointers (2 tracked)" in out.stdout
    write(ws.root / "raw" / "new.csv", "5\n")
    out = cli("status", cwd=ws.root)
    assert "modified  raw" in out.stdout
    assert "added: new.csv" in out.stdout
