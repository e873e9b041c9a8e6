"""Who acts and from which code: one answer each for every record Strata writes."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path

import pytest

from factories import (
    WorkspaceFactory,
    commit_all,
    git,
    git_init,
    isolate_env,
    make_workspace,
    write,
)
from registry_helpers import artifact
from strata import Workspace
from strata.scm import Git, GitState, user_identity

__all__ = ["make_workspace"]


def test_user_identity_is_strata_user_else_git_author_else_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_env(monkeypatch, tmp_path)  # no git identity in any git config
    git_author = {"GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": "ana@example.com"}
    assert user_identity(tmp_path, {"STRATA_USER": "bot", **git_author}) == "bot"
    assert user_identity(tmp_path, git_author) == "Ana <ana@example.com>"
    assert user_identity(tmp_path, {"GIT_AUTHOR_NAME": "Ana"}) == "Ana"
    assert user_identity(tmp_path, {}) == getpass.getuser()


def test_git_state_is_commit_branch_and_whether_tracked_files_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_env(monkeypatch, tmp_path)
    root = tmp_path / "repo"
    root.mkdir()
    assert Git(root).state() is None, "outside a repository"
    git_init(root)
    assert Git(root).state() is None, "before the first commit"
    write(root / "train.py", "print('train')\n")
    commit = commit_all(root, "code")
    assert Git(root).state() == GitState(commit, "main", dirty=False)
    write(root / "scratch.txt", "notes")
    assert Git(root).state() == GitState(commit, "main", dirty=False), "untracked: clean"
    git(root, "add", "scratch.txt")
    assert Git(root).state() == GitState(commit, "main", dirty=True), "staged: dirty"
    git(root, "reset", "-q")
    write(root / "train.py", "print('train harder')\n")
    assert Git(root).state() == GitState(commit, "main", dirty=True), "modified: dirty"
    git(root, "checkout", "-q", "--detach")
    assert Git(root).state() == GitState(commit, None, dirty=True), "detached: no branch"


def _untracked(ws: Workspace) -> None:
    write(ws.root / "notes.txt", "scratch")


def _modified(ws: Workspace) -> None:
    write(ws.root / "train.py", "print('train harder')\n")


def _pointer_modified(ws: Workspace) -> None:
    write(ws.root / "data.csv", "id\n1\n2\n")
    ws.files.add(["data.csv"])  # the data file is ignored by git; its pointer is tracked


@pytest.mark.parametrize(
    ("change", "dirty"),
    [
        (None, False),
        (_untracked, False),
        (_modified, True),
        (_pointer_modified, True),
    ],
)
def test_runs_and_the_model_registry_record_the_same_dirty_flag(
    make_workspace: WorkspaceFactory, change: Callable[[Workspace], None] | None, dirty: bool
) -> None:
    ws = make_workspace(git=True)
    write(ws.root / "train.py", "print('train')\n")
    write(ws.root / "data.csv", "id\n1\n")
    ws.files.add(["data.csv"])
    commit = commit_all(ws.root, "code and data")
    if change is not None:
        change(ws)
    with ws.run("train") as run:
        pass
    recorded = ws.lineage.run(run.ref).environment["git"]
    version = ws.models.register("clf", artifact(ws.root, "1"))
    assert (recorded["commit"], recorded["dirty"]) == (commit, dirty)
    assert (version.git_commit, version.git_dirty) == (commit, dirty)
    assert Git(ws.root).state() == GitState(commit, "main", dirty)
