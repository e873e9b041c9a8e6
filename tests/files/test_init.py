"""``strata init``: in a git repository, in a plain folder with --no-git, and refusals."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from factories import Cli, WorkspaceFactory, assert_one_line_error, git_init, isolate_env, snapshot
from strata import Workspace


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_env(monkeypatch, tmp_path)
    return tmp_path


def _config(root: Path) -> dict[str, object]:
    return tomllib.loads((root / ".strata" / "config.toml").read_text())


def test_init_in_a_git_repository(base: Path, cli: Cli) -> None:
    root = base / "project"
    git_init(root)
    out = cli("init", cwd=root)
    assert out.code == 0, out.stderr
    assert str(root) in out.stdout
    assert _config(root) == {"core": {"git": "true"}}
    ignored = (root / ".strata" / ".gitignore").read_text().splitlines()
    assert {"/cache", "/strata.db*", "/config.local.toml"} <= set(ignored)
    assert (root / ".strata" / "strata.db").is_file()
    with Workspace(root) as ws:
        assert ws.root == root
        assert ws.git is not None
        assert ws.config.cache_dir == root / ".strata" / "cache"


def test_init_json(base: Path, cli: Cli) -> None:
    root = base / "project"
    git_init(root)
    out = cli("init", "--json", cwd=root)
    assert out.code == 0, out.stderr
    assert out.json() == {"root": str(root), "git": True}


def test_init_no_git_in_a_plain_folder(base: Path, cli: Cli) -> None:
    root = base / "plain"
    root.mkdir()
    out = cli("init", "--no-git", cwd=root)
    assert out.code == 0, out.stderr
    assert _config(root) == {"core": {"git": "false"}}
    assert not (root / ".git").exists()
    with Workspace(root) as ws:
        assert ws.git is None


def test_no_git_workspace_tracks_files_without_gitignore(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(git=False)
    (ws.root / "data.csv").write_text("a\n")
    ws.files.add(["data.csv"])
    assert (ws.root / "data.csv.strata").is_file()
    assert not (ws.root / ".gitignore").exists()
    assert [s.state for s in ws.files.status()] == ["unchanged"]


def test_init_outside_git_without_no_git_is_refused(base: Path, cli: Cli) -> None:
    root = base / "plain"
    root.mkdir()
    out = cli("init", cwd=root)
    assert_one_line_error(out, 11, "not in a git repository", "--no-git")
    assert not (root / ".strata").exists()
    assert list(root.iterdir()) == []


def test_init_twice_is_refused_and_changes_nothing(base: Path, cli: Cli) -> None:
    root = base / "project"
    git_init(root)
    assert cli("init", cwd=root).code == 0
    assert cli("config", "set", "cache.type", "copy", cwd=root).code == 0
    before = snapshot(root)
    out = cli("init", cwd=root)
    assert_one_line_error(out, 4, "already a Strata workspace", "--force")
    assert snapshot(root) == before
    assert _config(root)["cache"] == {"type": "copy"}
