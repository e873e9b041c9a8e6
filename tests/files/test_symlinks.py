"""Symlinks: Strata reads and writes only inside the workspace.

``add`` follows a symlink only to a regular file inside the workspace; one that leads out, or
to a folder, or to nothing is refused by name with nothing cached. ``checkout`` and ``pull``
refuse a destination that a symlink on the way leads out of the workspace (or into .git or
.strata), before the first write."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from factories import (
    Cli,
    WorkspaceFactory,
    assert_one_line_error,
    b3,
    cache_objects,
    commit_all,
    make_folder,
    snapshot,
    write,
)
from strata import Workspace
from strata.errors import PathOutsideWorkspaceError, UserInputError
from strata.objects import Tree


def _pointer_through_link(ws: Workspace) -> None:
    """A pointer at the top, ``pwned.strata``, naming ``link/pwned.txt``, and ``link`` a
    symlink to a folder outside: what a hostile commit can hold."""
    write(ws.root / "link" / "pwned.txt", "payload\n")
    ws.files.add(["link/pwned.txt"])
    pointer = (ws.root / "link" / "pwned.txt.strata").read_text()
    write(ws.root / "pwned.strata", pointer.replace('"pwned.txt"', '"link/pwned.txt"'))
    shutil.rmtree(ws.root / "link")
    (ws.root / "link").symlink_to(_outside(ws))


def _outside(ws: Workspace) -> Path:
    """A folder beside the workspace, holding one file of its own."""
    folder = ws.root.parent / "elsewhere"
    write(folder / "theirs.txt", "not ours\n")
    return folder


# -- checkout and pull --------------------------------------------------------------------------
def test_checkout_refuses_a_pointer_through_a_symlinked_folder(
    make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    ws = make_workspace()
    _pointer_through_link(ws)
    commit_all(ws.root, "hostile")
    outside = _outside(ws)
    before = snapshot(outside)
    out = cli("checkout", "--force", cwd=ws.root)
    assert_one_line_error(
        out,
        PathOutsideWorkspaceError.exit_code,
        "link/pwned.txt",
        "link is a symlink leading out of the workspace",
    )
    assert snapshot(outside) == before


def test_checkout_refuses_a_symlink_planted_inside_a_tracked_folder(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace()
    make_folder(ws.root / "raw", {"a.csv": "1\n", "sub/c.csv": "3\n"})
    ws.files.add(["raw"])
    outside = _outside(ws)
    shutil.rmtree(ws.root / "raw" / "sub")
    (ws.root / "raw" / "sub").symlink_to(outside)
    before = snapshot(outside)
    with pytest.raises(PathOutsideWorkspaceError, match="raw/sub is a symlink leading out"):
        ws.files.checkout(["raw"], force=True)
    assert snapshot(outside) == before


def test_checkout_leaves_files_behind_a_symlinked_tracked_folder_alone(
    make_workspace: WorkspaceFactory,
) -> None:
    """The tracked folder itself replaced by a symlink: its target's files are neither
    removed nor overwritten, even those whose content is in the cache."""
    ws = make_workspace()
    make_folder(ws.root / "raw", {"a.csv": "1\n", "b.csv": "2\n"})
    ws.files.add(["raw"])
    outside = _outside(ws)
    write(outside / "a.csv", "1\n")  # in the cache: a plain checkout would have removed it
    write(outside / "b.csv", "changed\n")
    shutil.rmtree(ws.root / "raw")
    (ws.root / "raw").symlink_to(outside)
    before = snapshot(outside)
    with pytest.raises(PathOutsideWorkspaceError, match="raw is a symlink leading out"):
        ws.files.checkout(["raw"], force=True)
    assert snapshot(outside) == before


def test_checkout_refuses_a_pointer_into_git_s_own_folder(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace()
    write(ws.root / "hooks" / "post-checkout", "#!/bin/sh\necho pwned\n")
    ws.files.add(["hooks/post-checkout"])
    pointer = (ws.root / "hooks" / "post-checkout.strata").read_text()
    shutil.rmtree(ws.root / "hooks")
    hook = ws.root / ".git" / "hooks" / "post-checkout"
    write(ws.root / "hook.strata", pointer.replace('"post-checkout"', '".git/hooks/post-checkout"'))
    with pytest.raises(PathOutsideWorkspaceError, match=r"\.git is Strata's or git's own folder"):
        ws.files.checkout(["hook"], force=True)
    assert not hook.exists()


def test_a_symlink_inside_the_workspace_is_written_through(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace()
    write(ws.root / "data" / "a.csv", "1\n")
    ws.files.add(["data/a.csv"])
    (ws.root / "data").rename(ws.root / "real")
    (ws.root / "data").symlink_to("real")
    (ws.root / "real" / "a.csv").unlink()
    ws.files.checkout(["data/a.csv"])
    assert (ws.root / "real" / "a.csv").read_text() == "1\n"


def test_pull_refuses_a_pointer_through_a_symlinked_folder(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    ws = make_workspace()
    _pointer_through_link(ws)
    ws.remotes.add("shared", str(tmp_path / "remote"), default=True)
    ws.remotes.push()
    shutil.rmtree(ws.root / ".strata" / "cache")
    outside = _outside(ws)
    before = snapshot(outside)
    with pytest.raises(PathOutsideWorkspaceError, match="link is a symlink leading out"):
        ws.remotes.pull(force=True)
    assert snapshot(outside) == before


# -- add ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("link", "target", "fragment"),
    [
        ("raw/secret.txt", "../../elsewhere/theirs.txt", "leading out of the workspace"),
        ("raw/config", "../.git/config", "leading into .git"),
        ("raw/folder", "../other", "is a symlink to a folder"),
        ("raw/broken", "../nowhere", "is a symlink to nothing"),
    ],
)
def test_add_refuses_a_symlink_it_would_not_follow_naming_it(
    make_workspace: WorkspaceFactory, cli: Cli, link: str, target: str, fragment: str
) -> None:
    ws = make_workspace()
    _outside(ws)
    write(ws.root / "other" / "x.csv", "x\n")
    make_folder(ws.root / "raw", {"a.csv": "1\n"})
    (ws.root / link).symlink_to(target)
    before = snapshot(ws.root)
    out = cli("add", "raw", cwd=ws.root)
    code = UserInputError.exit_code if "symlink to" in fragment else 4
    assert_one_line_error(out, code, f"cannot add {link}", fragment)
    assert snapshot(ws.root) == before
    assert cache_objects(ws.root / ".strata" / "cache") == set()


def test_add_refuses_a_file_through_a_symlinked_folder(
    make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    ws = make_workspace()
    outside = _outside(ws)
    (ws.root / "link").symlink_to(outside)
    out = cli("add", "link/theirs.txt", cwd=ws.root)
    assert_one_line_error(
        out, PathOutsideWorkspaceError.exit_code, "link is a symlink leading out of the workspace"
    )
    assert not (outside / "theirs.txt.strata").exists()
    assert cache_objects(ws.root / ".strata" / "cache") == set()


def test_add_reads_a_symlink_to_a_file_inside_the_workspace_as_that_file(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace()
    write(ws.root / "shared.csv", "shared\n")
    make_folder(ws.root / "raw", {"a.csv": "1\n"})
    os.symlink("../shared.csv", ws.root / "raw" / "b.csv")
    [result] = ws.files.add(["raw"])
    tree = Tree.from_bytes(
        (ws.root / ".strata" / "cache").joinpath(result.hash[:2], result.hash[2:]).read_bytes(),
        what="raw",
    )
    assert {e.path: e.hash for e in tree.entries} == {"a.csv": b3(b"1\n"), "b.csv": b3(b"shared\n")}
