"""Factory fixtures and helpers for the file, object, CLI and config tests.

Import fixtures into a folder's ``conftest.py`` (``tests/files/conftest.py`` does), and helpers
straight into test modules: ``from factories import git, snapshot``. ``tests/`` is not a package;
pytest puts it on ``sys.path`` because ``tests/conftest.py`` lives there.

    def test_add(make_workspace):
        ws = make_workspace(git=True, cache_type="copy")
        write(ws.root / "data.csv", b"a,b\\n")
        ws.files.add(["data.csv"])
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import blake3
import pytest
from typer.testing import CliRunner

from strata import Workspace
from strata.cli.main import app
from strata.config import set_value

STRATA = Path(sys.executable).parent / "strata"

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Strata Tests",
    "GIT_AUTHOR_EMAIL": "tests@strata.invalid",
    "GIT_COMMITTER_NAME": "Strata Tests",
    "GIT_COMMITTER_EMAIL": "tests@strata.invalid",
}

# Files that change on every read-only command too: the state cache and the metadata database.
_VOLATILE = (".strata/state.db", ".strata/strata.db")


# -- environment ------------------------------------------------------------------------------
def isolate_env(monkeypatch: pytest.MonkeyPatch, base: Path) -> None:
    """No STRATA_* settings from outside, a fixed git identity, no user or system git config,
    and git never looks above ``base`` for a repository."""
    for name in list(os.environ):
        if name.startswith("STRATA_") or name in ("FORCE_COLOR", "GIT_DIR", "GIT_WORK_TREE"):
            monkeypatch.delenv(name)
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(base))


# -- network ----------------------------------------------------------------------------------
def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- git --------------------------------------------------------------------------------------
def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {' '.join(args)} failed: {done.stderr}"
    return done.stdout


def git_init(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")


def commit_all(root: Path, message: str) -> str:
    """Stage everything git does not ignore, commit, and return the commit id."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


# -- workspaces -------------------------------------------------------------------------------
class WorkspaceFactory:
    """Makes workspaces below ``base`` and changes into the newest one, as a user would before
    running commands there (relative paths are relative to the current folder); closes every
    Workspace it opened."""

    def __init__(self, base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.base = base
        self._monkeypatch = monkeypatch
        self._opened: list[Workspace] = []

    def __call__(
        self, name: str = "ws", *, git: bool = True, cache_type: str | None = None
    ) -> Workspace:
        root = self.base / name
        root.mkdir(parents=True)
        if git:
            git_init(root)
        Workspace.init(root, git=git).close()
        if cache_type is not None:
            set_value(root, "cache.type", cache_type)
        self._monkeypatch.chdir(root)
        return self.open(root)

    def open(self, root: Path) -> Workspace:
        """A fresh Workspace on ``root``, as a new process would see it."""
        ws = Workspace(root)
        self._opened.append(ws)
        return ws

    def close(self) -> None:
        for ws in self._opened:
            ws.close()


@pytest.fixture
def make_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkspaceFactory]:
    """``make_workspace(git=True, cache_type=None)`` → a new Workspace in a temp folder."""
    isolate_env(monkeypatch, tmp_path)
    factory = WorkspaceFactory(tmp_path, monkeypatch)
    yield factory
    factory.close()


# -- files ------------------------------------------------------------------------------------
def write(path: Path, data: bytes | str) -> Path:
    """Write ``path`` as a user's tool would: a new file replacing the old one.

    Unlinking first matters with hardlinked checkouts: tests run as root, which can write
    through the read-only bits into the cached object, which no real user edit does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def b3(data: bytes) -> str:
    return str(blake3.blake3(data).hexdigest())


def file_hashes(folder: Path) -> dict[str, str]:
    """relative POSIX path → BLAKE3 of every file below ``folder``."""
    return {
        p.relative_to(folder).as_posix(): b3(p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def make_folder(folder: Path, files: Mapping[str, bytes | str]) -> Path:
    for name, data in files.items():
        write(folder / name, data)
    return folder


def cache_objects(cache: Path) -> set[str]:
    """Names (hashes) of the objects in a cache folder."""
    if not cache.is_dir():
        return set()
    return {
        p.parent.name + p.name
        for p in cache.glob("??/*")
        if p.is_file() and len(p.parent.name + p.name) == 64
    }


def corrupt(path: Path, data: bytes = b"bit rot") -> None:
    """Overwrite a (read-only) cached object in place."""
    os.chmod(path, 0o644)
    with open(path, "r+b") as fh:
        fh.write(data)


def snapshot(root: Path) -> dict[str, object]:
    """Everything on disk below ``root`` except .git and Strata's own caches of what it read:
    path → (mode, content hash) for files, "dir" for folders, target for symlinks."""
    state: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        here = Path(dirpath)
        for name in dirnames:
            state[(here / name).relative_to(root).as_posix()] = "dir"
        for name in filenames:
            path = here / name
            rel = path.relative_to(root).as_posix()
            if rel.startswith(_VOLATILE):
                continue
            if path.is_symlink():
                state[rel] = ("link", os.readlink(path))
            else:
                state[rel] = (path.stat().st_mode, b3(path.read_bytes()))
    return state


# -- the command line -------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)


class Cli:
    """Runs ``strata`` in this process with typer's CliRunner, from a given folder."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, cwd: Path, env: Mapping[str, str] | None = None) -> Outcome:
        with contextlib.chdir(cwd):
            result = self.runner.invoke(app, list(args), env=env, catch_exceptions=True)
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            # An exception escaped the CLI: show it as the user would have seen it.
            exc = result.exception
            stderr += "Traceback (most recent call last):\n" + "".join(
                traceback.format_exception(type(exc), exc, exc.__traceback__)
            )
        return Outcome(result.exit_code, result.stdout, stderr)


@pytest.fixture
def cli() -> Cli:
    """``cli("status", "--json", cwd=ws.root)`` → Outcome(code, stdout, stderr)."""
    return Cli()


def run_strata(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> Outcome:
    """Run the installed ``strata`` as a real process."""
    done = subprocess.run(
        [str(STRATA), *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(outcome: Outcome, code: int, *fragments: str) -> str:
    """A failed command: exit ``code``, exactly one line on stderr, starting ``error:``,
    holding every fragment, and no traceback anywhere. Returns the line."""
    lines = outcome.stderr.splitlines()
    assert outcome.code == code, (outcome.code, outcome.stderr)
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in outcome.stderr + outcome.stdout
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def statuses(ws: Workspace, paths: Sequence[str] = ()) -> dict[str, str]:
    """tracked path → its state (unchanged, modified, missing)."""
    return {s.path: s.state for s in ws.files.status(list(paths))}


# -- progress ---------------------------------------------------------------------------------
class ProgressRecorder:
    """A progress sink that sums what it is told, and notes any work reported beyond what
    was expected by then (a total that came late, or too small)."""

    def __init__(self) -> None:
        self.expected = [0, 0]  # objects, bytes
        self.done = [0, 0]
        self.overruns: list[tuple[int, int]] = []

    def __call__(self, objects: int) -> None:
        self.advance(objects)

    def expect(self, objects: int = 0, nbytes: int = 0) -> None:
        self.expected[0] += objects
        self.expected[1] += nbytes

    def advance(self, objects: int = 0, nbytes: int = 0) -> None:
        self.done[0] += objects
        self.done[1] += nbytes
        if self.done[0] > self.expected[0] or self.done[1] > self.expected[1]:
            self.overruns.append((self.done[0], self.done[1]))
