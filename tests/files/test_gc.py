"""``strata gc``: remove what no pointer needs; keep what any branch, tag or the working tree
needs; --workspace keeps only the working tree's; --dry-run removes nothing."""

from __future__ import annotations

from factories import (
    Cli,
    WorkspaceFactory,
    b3,
    cache_objects,
    commit_all,
    git,
    write,
)
from strata import Workspace


def _history(make_workspace: WorkspaceFactory) -> Workspace:
    """main: v1 (tagged v1.0) then v2; branch exp: vexp; plus an orphan object and the
    working tree at main's v2."""
    ws = make_workspace(cache_type="copy")
    write(ws.root / "data.csv", "v1")
    ws.files.add(["data.csv"])
    commit_all(ws.root, "v1")
    git(ws.root, "tag", "v1.0")
    write(ws.root / "data.csv", "v2")
    ws.files.add(["data.csv"])
    commit_all(ws.root, "v2")
    git(ws.root, "switch", "-q", "-c", "exp")
    write(ws.root / "data.csv", "vexp")
    ws.files.add(["data.csv"])
    commit_all(ws.root, "experiment")
    git(ws.root, "switch", "-q", "main")
    ws.files.checkout()  # the working tree follows the pointer back to v2
    write(ws.root / "data.csv", "orphan")
    ws.files.add(["data.csv"])  # never committed ...
    ws.files.checkout(force=True, rev="HEAD")  # ... and given up
    assert (ws.root / "data.csv").read_text() == "v2"
    return ws


def _objects(ws: Workspace) -> set[str]:
    return cache_objects(ws.config.cache_dir)


def test_gc_removes_only_what_nothing_needs(make_workspace: WorkspaceFactory) -> None:
    ws = _history(make_workspace)
    result = ws.files.gc()
    assert set(result.removed) == {b3(b"orphan")}
    assert result.bytes_freed == len("orphan")
    assert _objects(ws) == {b3(b"v1"), b3(b"v2"), b3(b"vexp")}
    assert set(result.revisions) == {
        "workspace",
        "refs/heads/main",
        "refs/heads/exp",
        "refs/tags/v1.0",
    }
    assert [s.state for s in ws.files.status()] == ["unchanged"]


def test_gc_keeps_what_a_tag_needs(make_workspace: WorkspaceFactory) -> None:
    ws = _history(make_workspace)
    git(ws.root, "branch", "-q", "-D", "exp")
    ws.files.gc()
    assert _objects(ws) == {b3(b"v1"), b3(b"v2")}
    ws.files.checkout(rev="v1.0")
    assert (ws.root / "data.csv").read_text() == "v1"


def test_gc_keeps_what_another_branch_needs(make_workspace: WorkspaceFactory) -> None:
    ws = _history(make_workspace)
    git(ws.root, "tag", "-d", "v1.0")
    ws.files.gc()
    assert _objects(ws) == {b3(b"v2"), b3(b"vexp")}
    ws.files.checkout(rev="exp")
    assert (ws.root / "data.csv").read_text() == "vexp"


def test_gc_keeps_folder_files_and_listings(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(cache_type="copy")
    write(ws.root / "raw" / "a.csv", "1")
    write(ws.root / "raw" / "b.csv", "2")
    [added] = ws.files.add(["raw"])
    commit_all(ws.root, "raw")
    write(ws.root / "raw" / "b.csv", "2 edited")
    [orphan] = ws.files.add(["raw"])
    ws.files.checkout(rev="HEAD", force=True)
    result = ws.files.gc()
    assert set(result.removed) == {orphan.hash, b3(b"2 edited")}
    assert _objects(ws) == {added.hash, b3(b"1"), b3(b"2")}


def test_gc_workspace_keeps_only_the_working_tree(make_workspace: WorkspaceFactory) -> None:
    ws = _history(make_workspace)
    result = ws.files.gc(workspace_only=True)
    assert set(result.removed) == {b3(b"v1"), b3(b"vexp"), b3(b"orphan")}
    assert result.revisions == ("workspace",)
    assert _objects(ws) == {b3(b"v2")}
    assert [s.state for s in ws.files.status()] == ["unchanged"]


def test_gc_keeps_an_uncommitted_pointer(make_workspace: WorkspaceFactory) -> None:
    ws = _history(make_workspace)
    write(ws.root / "data.csv", "v3, not committed")
    ws.files.add(["data.csv"])
    ws.files.gc(workspace_only=True)
    assert _objects(ws) == {b3(b"v3, not committed")}


def test_gc_dry_run_removes_nothing(make_workspace: WorkspaceFactory) -> None:
    ws = _history(make_workspace)
    before = _objects(ws)
    result = ws.files.gc(workspace_only=True, dry_run=True)
    assert result.dry_run
    assert set(result.removed) == {b3(b"v1"), b3(b"vexp"), b3(b"orphan")}
    assert _objects(ws) == before


def test_gc_cli_json_and_dry_run(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = _history(make_workspace)
    before = _objects(ws)
    out = cli("gc", "--workspace", "--dry-run", "--json", cwd=ws.root)
    assert out.code == 0, out.stderr
    doc = out.json()
    assert isinstance(doc, dict)
    assert set(doc) == {"removed", "bytes_freed", "kept", "revisions", "dry_run"}
    assert doc["dry_run"] is True
    assert set(doc["removed"]) == {b3(b"v1"), b3(b"vexp"), b3(b"orphan")}
    assert _objects(ws) == before
    out = cli("gc", cwd=ws.root)
    assert out.code == 0, out.stderr
    assert "removed 1 objects" in out.stdout
    assert _objects(ws) == {b3(b"v1"), b3(b"v2"), b3(b"vexp")}
