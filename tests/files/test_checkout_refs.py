"""``strata checkout file:PATH@SELECTOR``: a version named by git revision or content hash."""

from __future__ import annotations

import tomllib

import pytest

from factories import (
    Cli,
    WorkspaceFactory,
    assert_one_line_error,
    b3,
    commit_all,
    file_hashes,
    make_folder,
    snapshot,
    write,
)
from strata import Workspace
from strata.errors import RefSyntaxError, RevisionNotFoundError, UserInputError


def _two_versions(make_workspace: WorkspaceFactory) -> Workspace:
    ws = make_workspace(cache_type="copy")
    write(ws.root / "model.bin", "weights v1")
    make_folder(ws.root / "raw", {"a.csv": "1\n"})
    ws.files.add(["model.bin", "raw"])
    commit_all(ws.root, "v1")
    write(ws.root / "model.bin", "weights v2")
    make_folder(ws.root / "raw", {"a.csv": "1\n", "b.csv": "2\n"})
    ws.files.add(["model.bin", "raw"])
    commit_all(ws.root, "v2")
    return ws


def _pointer_hash(ws: Workspace, path: str) -> str:
    doc = tomllib.loads((ws.root / f"{path}.strata").read_text())
    return str(doc["hash"])


def test_a_git_revision_selector_restores_that_version_and_its_pointer(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = _two_versions(make_workspace)
    ws.files.checkout(["file:model.bin@HEAD~1"])
    assert (ws.root / "model.bin").read_text() == "weights v1"
    assert _pointer_hash(ws, "model.bin") == b3(b"weights v1")
    assert set(file_hashes(ws.root / "raw")) == {"a.csv", "b.csv"}, "other paths untouched"


def test_a_hash_prefix_selector_restores_a_version_added_earlier(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = _two_versions(make_workspace)
    old_listing = ws.files.versions("raw")[0].hash
    ws.files.checkout([f"file:raw@{old_listing[:10]}"])
    assert set(file_hashes(ws.root / "raw")) == {"a.csv"}
    assert _pointer_hash(ws, "raw") == old_listing


def test_a_selector_that_names_nothing_is_refused_and_changes_nothing(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = _two_versions(make_workspace)
    before = snapshot(ws.root)
    with pytest.raises(RevisionNotFoundError):
        ws.files.checkout(["file:model.bin@abcdef12"])
    with pytest.raises(RefSyntaxError):
        ws.files.checkout(["file:../outside@HEAD"])
    with pytest.raises(UserInputError):
        ws.files.checkout(["file:model.bin@HEAD~1"], rev="HEAD")
    assert snapshot(ws.root) == before


def test_the_cli_takes_file_refs(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = _two_versions(make_workspace)
    done = cli("checkout", "file:model.bin@HEAD~1", cwd=ws.root)
    assert done.code == 0, done.stderr
    assert (ws.root / "model.bin").read_text() == "weights v1"
    bad = cli("checkout", "file:model.bin@no-such-rev", cwd=ws.root)
    assert_one_line_error(bad, 11, "no-such-rev")
