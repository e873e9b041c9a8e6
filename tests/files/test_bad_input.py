"""Bad input: one clear line on stderr, a non-zero exit code, and nothing changed on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from factories import (
    Cli,
    WorkspaceFactory,
    assert_one_line_error,
    b3,
    commit_all,
    isolate_env,
    make_folder,
    snapshot,
    write,
)
from strata import Workspace
from strata.errors import PathOutsideWorkspaceError, PointerError


def _tracked(make_workspace: WorkspaceFactory) -> Workspace:
    ws = make_workspace(cache_type="copy")
    write(ws.root / "data.csv", "a,b\n1,2\n")
    make_folder(ws.root / "raw", {"a.csv": "1\n", "b.csv": "2\n"})
    ws.files.add(["data.csv", "raw"])
    commit_all(ws.root, "tracked")
    return ws


# -- paths outside the workspace --------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["add", "../outside.csv"], "../outside.csv is outside the workspace"),
        (["status", "../outside.csv"], "outside the workspace"),
        (["checkout", "../outside.csv"], "outside the workspace"),
        (["diff", "HEAD", "../outside.csv"], "outside the workspace"),
        (["add", "raw/../../outside.csv"], "outside the workspace"),
        (["add", ".strata/config.toml"], "Strata's or git's own folder"),
        (["add", ".git"], "Strata's or git's own folder"),
    ],
)
def test_a_path_outside_the_workspace(
    make_workspace: WorkspaceFactory, cli: Cli, args: list[str], fragment: str
) -> None:
    ws = _tracked(make_workspace)
    write(ws.root.parent / "outside.csv", "not ours\n")
    before, around = snapshot(ws.root), snapshot(ws.root.parent)
    out = cli(*args, cwd=ws.root)
    assert_one_line_error(out, PathOutsideWorkspaceError.exit_code, fragment)
    assert snapshot(ws.root) == before
    assert snapshot(ws.root.parent) == around


def test_an_absolute_path_outside_the_workspace(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = _tracked(make_workspace)
    outside = write(ws.root.parent / "outside.csv", "not ours\n")
    before = snapshot(ws.root)
    out = cli("add", str(outside), cwd=ws.root)
    assert_one_line_error(out, 4, str(outside), "outside the workspace")
    assert snapshot(ws.root) == before
    assert not (ws.root.parent / "outside.csv.strata").exists()


def test_a_path_that_does_not_exist(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = _tracked(make_workspace)
    before = snapshot(ws.root)
    out = cli("add", "nope.csv", cwd=ws.root)
    assert_one_line_error(out, 4, "nope.csv")
    assert snapshot(ws.root) == before


def test_api_refuses_a_path_outside_the_workspace(make_workspace: WorkspaceFactory) -> None:
    ws = _tracked(make_workspace)
    outside = write(ws.root.parent / "outside.csv", "x")
    with pytest.raises(PathOutsideWorkspaceError):
        ws.files.add([outside])


# -- pointers that cannot be trusted ----------------------------------------------------------
def _pointer(path: str, digest: str, *, fmt: int = 1, kind: str = "file", size: int = 8) -> str:
    return (
        f'format = {fmt}\npath = "{path}"\nkind = "{kind}"\nhash = "{digest}"\n'
        f"size = {size}\nfiles = 1\n"
    )


BAD_POINTERS = {
    "not-toml": ("this is = = not toml\n", ["not valid TOML"]),
    "binary": ("\udcff", ["not valid TOML"]),
    "no-format": ('path = "data.csv"\n', ["no format version"]),
    "newer-format": (None, ["format 2", "upgrade strata"]),
    "bad-hash": (None, ["malformed hash"]),
    "bad-kind": (None, ["kind"]),
    "dotdot": (None, ["unsafe path", ".."]),
    "dotdot-inside": (None, ["unsafe path", ".."]),
    "absolute": (None, ["unsafe path", "absolute"]),
    "negative-size": (None, ["size"]),
}


def _bad_pointer_text(case: str, ws: Workspace) -> str:
    digest = b3(b"a,b\n1,2\n")
    outside = ws.root.parent / "escaped.csv"
    special = {
        "newer-format": _pointer("data.csv", digest, fmt=2),
        "bad-hash": _pointer("data.csv", "xyz"),
        "bad-kind": _pointer("data.csv", digest, kind="symlink"),
        "dotdot": _pointer("../escaped.csv", digest),
        "dotdot-inside": _pointer("raw/../../escaped.csv", digest),
        "absolute": _pointer(str(outside), digest),
        "negative-size": _pointer("data.csv", digest, size=-1),
    }
    text = BAD_POINTERS[case][0]
    return special[case] if text is None else text


@pytest.mark.parametrize("command", ["status", "checkout", "diff"])
@pytest.mark.parametrize("case", sorted(BAD_POINTERS))
def test_a_bad_pointer_file(
    make_workspace: WorkspaceFactory, cli: Cli, case: str, command: str
) -> None:
    ws = _tracked(make_workspace)
    (ws.root / "data.csv").unlink()  # checkout would write it, if it trusted the pointer
    pointer = ws.root / "data.csv.strata"
    text = _bad_pointer_text(case, ws)
    pointer.write_bytes(text.encode(errors="surrogateescape"))
    before, around = snapshot(ws.root), snapshot(ws.root.parent)
    out = cli(command, cwd=ws.root)
    line = assert_one_line_error(out, PointerError.exit_code, "data.csv.strata")
    for fragment in BAD_POINTERS[case][1]:
        assert fragment in line
    assert snapshot(ws.root) == before
    assert snapshot(ws.root.parent) == around
    assert not (ws.root.parent / "escaped.csv").exists()


@pytest.mark.parametrize("path", ["../escaped.csv", "/tmp/escaped-by-strata.csv"])
def test_an_unsafe_pointer_at_a_git_revision(
    make_workspace: WorkspaceFactory, cli: Cli, path: str
) -> None:
    ws = _tracked(make_workspace)
    (ws.root / "data.csv.strata").write_text(_pointer(path, b3(b"a,b\n1,2\n")))
    commit_all(ws.root, "a hostile pointer")
    (ws.root / "data.csv.strata").write_text(_pointer("data.csv", b3(b"a,b\n1,2\n")))
    before, around = snapshot(ws.root), snapshot(ws.root.parent)
    out = cli("checkout", "--rev", "HEAD", cwd=ws.root)
    assert_one_line_error(out, 6, "data.csv.strata", "unsafe path")
    assert snapshot(ws.root) == before
    assert snapshot(ws.root.parent) == around
    assert not Path(path if path.startswith("/") else ws.root.parent / "escaped.csv").exists()


# -- a missing cache object -------------------------------------------------------------------
@pytest.mark.parametrize(("tracked", "content"), [("data.csv", b"a,b\n1,2\n"), ("raw", b"2\n")])
def test_a_missing_cache_object_on_checkout(
    make_workspace: WorkspaceFactory, cli: Cli, tracked: str, content: bytes
) -> None:
    ws = _tracked(make_workspace)
    digest = b3(content)
    ws.store.path(digest).unlink()
    (ws.root / "data.csv").unlink()
    (ws.root / "raw" / "b.csv").unlink()
    before = snapshot(ws.root)
    out = cli("checkout", cwd=ws.root)
    assert_one_line_error(out, 8, digest[:12], tracked, "strata pull")
    assert snapshot(ws.root) == before


# -- not in a workspace -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["add", "x.csv"],
        ["checkout"],
        ["diff"],
        ["gc"],
        ["verify"],
        ["config", "list"],
        ["config", "get", "cache.type"],
        ["config", "set", "cache.type", "copy"],
    ],
)
def test_running_outside_a_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli, args: list[str]
) -> None:
    isolate_env(monkeypatch, tmp_path)
    folder = tmp_path / "plain"
    write(folder / "x.csv", "1\n")
    before = snapshot(folder)
    out = cli(*args, cwd=folder)
    assert_one_line_error(out, 4, "not inside a Strata workspace", "strata init")
    assert snapshot(folder) == before


# -- git revisions ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "rev"),
    [
        (["checkout", "--rev", "no-such-branch"], "no-such-branch"),
        (["checkout", "--rev", "HEAD~5"], "HEAD~5"),
        (["checkout", "--rev=--output=pwned"], "--output=pwned"),  # not a git option
        (["diff", "no-such-tag"], "no-such-tag"),
        (["diff", "HEAD", "deadbeef"], "deadbeef"),
    ],
)
def test_a_git_revision_that_does_not_exist(
    make_workspace: WorkspaceFactory, cli: Cli, args: list[str], rev: str
) -> None:
    ws = _tracked(make_workspace)
    (ws.root / "data.csv").unlink()
    before = snapshot(ws.root)
    out = cli(*args, cwd=ws.root)
    assert_one_line_error(out, 11, repr(rev), "does not exist", "git log")
    assert snapshot(ws.root) == before


def test_a_git_revision_in_a_workspace_without_git(
    make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    ws = make_workspace(git=False)
    write(ws.root / "data.csv", "1\n")
    ws.files.add(["data.csv"])
    before = snapshot(ws.root)
    out = cli("checkout", "--rev", "HEAD~1", cwd=ws.root)
    assert_one_line_error(out, 2, "HEAD~1", "does not use git")
    assert snapshot(ws.root) == before
