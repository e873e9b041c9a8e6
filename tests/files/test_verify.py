"""``strata verify``: re-hash the cache; corrupt and missing objects are reported by name with
the tracked path that needs them, and the command exits non-zero."""

from __future__ import annotations

from factories import (
    Cli,
    WorkspaceFactory,
    b3,
    cache_objects,
    corrupt,
    make_folder,
    write,
)
from strata import Workspace
from strata.errors import ObjectCorruptError
from strata.files import Problem


def _tracked(make_workspace: WorkspaceFactory) -> Workspace:
    ws = make_workspace(cache_type="copy")
    write(ws.root / "model.bin", "weights")
    make_folder(ws.root / "raw", {"a.csv": "1\n", "sub/b.csv": "2\n"})
    ws.files.add(["model.bin", "raw"])
    return ws


def test_clean_cache_is_ok(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = _tracked(make_workspace)
    result = ws.files.verify()
    assert result.ok
    assert result.problems == ()
    assert result.checked == len(cache_objects(ws.config.cache_dir)) == 4
    out = cli("verify", "--json", cwd=ws.root)
    assert out.code == 0, out.stderr
    assert out.json() == {"ok": True, "checked": 4, "problems": []}


def test_a_corrupt_object_is_reported_with_its_path(make_workspace: WorkspaceFactory) -> None:
    ws = _tracked(make_workspace)
    corrupt(ws.store.path(b3(b"2\n")))
    result = ws.files.verify()
    assert not result.ok
    assert result.problems == (Problem(b3(b"2\n"), "raw/sub/b.csv", "corrupt"),)


def test_a_deleted_object_is_reported_with_its_path(make_workspace: WorkspaceFactory) -> None:
    ws = _tracked(make_workspace)
    ws.store.path(b3(b"weights")).unlink()
    result = ws.files.verify()
    assert result.problems == (Problem(b3(b"weights"), "model.bin", "missing"),)
    assert result.checked == 3


def test_cli_reports_both_and_exits_non_zero(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = _tracked(make_workspace)
    corrupt(ws.store.path(b3(b"1\n")))
    ws.store.path(b3(b"weights")).unlink()
    rotten, gone = b3(b"1\n"), b3(b"weights")
    out = cli("verify", cwd=ws.root)
    assert out.code == ObjectCorruptError.exit_code
    lines = [" ".join(line.split()) for line in out.stdout.splitlines()]
    assert f"corrupt {rotten[:12]} raw/a.csv" in lines
    assert f"missing {gone[:12]} model.bin" in lines
    out = cli("verify", "--json", cwd=ws.root)
    assert out.code != 0
    doc = out.json()
    assert isinstance(doc, dict)
    assert doc["ok"] is False
    assert sorted((p["path"], p["problem"], p["hash"]) for p in doc["problems"]) == [
        ("model.bin", "missing", gone),
        ("raw/a.csv", "corrupt", rotten),
    ]


def test_a_corrupt_listing_is_reported(make_workspace: WorkspaceFactory) -> None:
    ws = _tracked(make_workspace)
    [listing] = ws.files.add(["raw"])
    corrupt(ws.store.path(listing.hash), b"[not a listing")
    result = ws.files.verify()
    assert result.problems == (Problem(listing.hash, "raw", "corrupt"),)
