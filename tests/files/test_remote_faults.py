"""Remote failures named as the user sees them: a full remote disk says so, and a corrupt
object is named by the tracked path that uses it."""

from __future__ import annotations

import os
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from factories import (
    Cli,
    WorkspaceFactory,
    assert_one_line_error,
    b3,
    commit_all,
    git,
    make_folder,
    write,
)
from pack_support import tamper
from strata import Workspace
from strata.errors import DiskFullError


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a real 1 MiB tmpfs: writing more than that fails with ENOSPC."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip() or 'not permitted'}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def _digest(ws: Workspace, path: str) -> str:
    return str(tomllib.loads((ws.root / f"{path}.strata").read_text())["hash"])


def test_a_full_remote_disk_says_so(
    make_workspace: WorkspaceFactory, small_disk: Path, cli: Cli
) -> None:
    ws = make_workspace()
    write(ws.root / "big.bin", os.urandom(2 * 1024 * 1024))
    ws.files.add(["big.bin"])
    ws.remotes.add("shared", str(small_disk / "store"), default=True)
    ws.remotes.modify("shared", "chunk_threshold", str(64 * 1024 * 1024))
    commit_all(ws.root, "data")
    out = cli("push", cwd=ws.root)
    line = assert_one_line_error(
        out, DiskFullError.exit_code, "remote 'shared'", "no space left on the remote"
    )
    assert "check the URL" not in line
    digest = _digest(ws, "big.bin")
    assert not (small_disk / "store" / digest[:2] / digest[2:]).exists()
    assert not any((small_disk / "store" / "tmp").iterdir()), "no half-written upload stays"


def _pushed_then_tampered(
    make_workspace: WorkspaceFactory, tmp_path: Path, path: str
) -> tuple[Workspace, str]:
    ws = make_workspace()
    write(ws.root / "model.bin", "weights")
    make_folder(ws.root / "raw", {"a.csv": "1\n", "sub/b.csv": "2\n"})
    ws.files.add(["model.bin", "raw"])
    ws.remotes.add("shared", str(tmp_path / "remote"), default=True)
    commit_all(ws.root, "data")
    ws.remotes.push()
    digest = b3({"model.bin": b"weights", "raw/sub/b.csv": b"2\n"}[path])
    tamper(ws.remotes.open(), digest)
    return ws, digest


@pytest.mark.parametrize("path", ["model.bin", "raw/sub/b.csv"])
def test_pull_names_a_corrupt_object_by_its_path(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli, path: str
) -> None:
    ws, digest = _pushed_then_tampered(make_workspace, tmp_path, path)
    clone = ws.root.parent / "clone"
    git(ws.root.parent, "clone", "-q", str(ws.root), str(clone))
    out = cli("pull", cwd=clone)
    assert out.code != 0
    assert f"failed {path} ({digest[:12]}): " in out.stdout
    machine = cli("pull", "--json", cwd=clone).json()
    failed = machine["failed"]  # type: ignore[index]
    assert [(f["hash"], f["path"], f["kind"]) for f in failed] == [(digest, path, "corrupt")]


@pytest.mark.parametrize("path", ["model.bin", "raw/sub/b.csv"])
def test_verify_remote_names_a_corrupt_object_by_its_path(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli, path: str
) -> None:
    ws, digest = _pushed_then_tampered(make_workspace, tmp_path, path)
    assert [(p.hash, p.path, p.problem) for p in ws.remotes.verify().problems] == [
        (digest, path, "corrupt")
    ]
    out = cli("verify", "--remote", cwd=ws.root)
    assert out.code == 9
    assert f"corrupt  {digest[:12]}  {path}" in out.stdout
