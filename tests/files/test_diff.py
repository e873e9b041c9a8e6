"""``strata diff``: files added, modified and deleted between revisions or against the
workspace, with sizes."""

from __future__ import annotations

import shutil

from factories import Cli, WorkspaceFactory, b3, commit_all, make_folder, write
from strata import Workspace
from strata.files import DiffEntry

V1 = {"a.csv": "1\n", "b.csv": "22\n", "sub/c.csv": "333\n"}
V2 = {"a.csv": "1\n", "b.csv": "22 changed\n", "sub/d.csv": "4444\n"}


def _two_commits(make_workspace: WorkspaceFactory) -> Workspace:
    ws = make_workspace(cache_type="copy")
    write(ws.root / "model.bin", "weights v1")
    make_folder(ws.root / "raw", V1)
    ws.files.add(["model.bin", "raw"])
    commit_all(ws.root, "v1")
    write(ws.root / "model.bin", "weights v2!")
    shutil.rmtree(ws.root / "raw")
    make_folder(ws.root / "raw", V2)
    ws.files.add(["model.bin", "raw"])
    commit_all(ws.root, "v2")
    return ws


def _entry(path: str, old: str | None, new: str | None) -> DiffEntry:
    change = "added" if old is None else "deleted" if new is None else "modified"
    return DiffEntry(
        path,
        change,  # type: ignore[arg-type]
        None if old is None else b3(old.encode()),
        None if new is None else b3(new.encode()),
        None if old is None else len(old),
        None if new is None else len(new),
    )


def test_previous_commit_against_head(make_workspace: WorkspaceFactory) -> None:
    ws = _two_commits(make_workspace)
    assert ws.files.diff("HEAD~1", "HEAD") == [
        _entry("model.bin", "weights v1", "weights v2!"),
        _entry("raw/b.csv", "22\n", "22 changed\n"),
        _entry("raw/sub/c.csv", "333\n", None),
        _entry("raw/sub/d.csv", None, "4444\n"),
    ]


def test_head_against_the_previous_commit_is_the_reverse(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = _two_commits(make_workspace)
    changes = {e.path: e.change for e in ws.files.diff("HEAD", "HEAD~1")}
    assert changes == {
        "model.bin": "modified",
        "raw/b.csv": "modified",
        "raw/sub/c.csv": "added",
        "raw/sub/d.csv": "deleted",
    }


def test_head_against_the_workspace(make_workspace: WorkspaceFactory) -> None:
    ws = _two_commits(make_workspace)
    write(ws.root / "model.bin", "retrained weights")
    write(ws.root / "raw" / "e.csv", "55555\n")
    (ws.root / "raw" / "a.csv").unlink()
    assert (
        ws.files.diff()
        == ws.files.diff("HEAD")
        == [
            _entry("model.bin", "weights v2!", "retrained weights"),
            _entry("raw/a.csv", "1\n", None),
            _entry("raw/e.csv", None, "55555\n"),
        ]
    )


def test_no_differences(make_workspace: WorkspaceFactory) -> None:
    ws = _two_commits(make_workspace)
    assert ws.files.diff() == []
    assert ws.files.diff("HEAD", "HEAD") == []


def test_a_path_not_checked_out_counts_as_its_pointer(make_workspace: WorkspaceFactory) -> None:
    ws = _two_commits(make_workspace)
    (ws.root / "model.bin").unlink()
    assert ws.files.diff() == []


def test_diff_limited_to_a_path(make_workspace: WorkspaceFactory) -> None:
    ws = _two_commits(make_workspace)
    assert [e.path for e in ws.files.diff("HEAD~1", "HEAD", ["raw/sub"])] == [
        "raw/sub/c.csv",
        "raw/sub/d.csv",
    ]


def test_diff_json_shape(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = _two_commits(make_workspace)
    out = cli("diff", "HEAD~1", "HEAD", "--json", cwd=ws.root)
    assert out.code == 0, out.stderr
    rows = out.json()
    assert isinstance(rows, list)
    assert rows == [e.to_dict() for e in ws.files.diff("HEAD~1", "HEAD")]
    assert rows[0] == {
        "path": "model.bin",
        "change": "modified",
        "old_hash": b3(b"weights v1"),
        "new_hash": b3(b"weights v2!"),
        "old_size": 10,
        "new_size": 11,
    }
    added = next(r for r in rows if r["change"] == "added")
    assert added["old_hash"] is None and added["old_size"] is None
    assert added["new_size"] == 5


def test_diff_human_output_shows_sizes(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = _two_commits(make_workspace)
    out = cli("diff", "HEAD~1", "HEAD", cwd=ws.root)
    assert out.code == 0, out.stderr
    lines = [" ".join(line.split()) for line in out.stdout.splitlines()]
    assert "modified model.bin (10 B → 11 B)" in lines
    assert "deleted raw/sub/c.csv (4 B)" in lines
    assert "added raw/sub/d.csv (5 B)" in lines
