"""``strata get``, ``import`` and ``update``: tracked paths from another Strata git repository
(two local git repositories and a folder remote), and every bad input as a one-line error with
nothing written."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from factories import (
    Cli,
    WorkspaceFactory,
    assert_one_line_error,
    commit_all,
    file_hashes,
    git,
    make_folder,
    snapshot,
    write,
)
from strata import Workspace
from strata.errors import (
    GitError,
    NotTrackedError,
    RemoteError,
    UserInputError,
)

V1 = {"a.csv": "1\n", "sub/b.csv": "2\n"}
V2 = {"a.csv": "1 changed\n", "sub/b.csv": "2\n", "c.csv": "3\n"}


@pytest.fixture
def source(make_workspace: WorkspaceFactory, tmp_path: Path) -> Workspace:
    """A repository tracking data/raw (v1, tagged v1.0) and model.bin, pushed to a folder
    remote named by a relative path, with a secret and a wrong url in its git-ignored local
    config."""
    local = tmp_path / "datasets" / ".strata" / "config.local.toml"
    src = make_workspace("datasets")
    src.remotes.add("store", "../remote", default=True)
    make_folder(src.root / "data" / "raw", V1)
    write(src.root / "model.bin", "weights")
    src.files.add(["data/raw", "model.bin"])
    commit_all(src.root, "v1")
    git(src.root, "tag", "v1.0")
    src.remotes.push()
    local.write_text('[remote.store]\nurl = "/nowhere"\nprofile = "s3cret-profile"\n')
    return src


def test_get_brings_a_folder_without_a_workspace(
    source: Workspace, tmp_path: Path, cli: Cli
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = cli("get", str(source.root), "data/raw", "-o", "raw", cwd=elsewhere)
    assert out.code == 0, out.stderr
    assert file_hashes(elsewhere / "raw") == file_hashes(source.root / "data" / "raw")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["raw"], "no leftovers"
    got = cli("get", str(source.root), "model.bin", "--json", cwd=elsewhere)
    assert got.json() == {"path": str(elsewhere / "model.bin")}
    assert (elsewhere / "model.bin").read_text() == "weights"


def test_get_at_a_tag_and_at_a_commit(source: Workspace, tmp_path: Path) -> None:
    from strata.files.imports import get

    first = git(source.root, "rev-parse", "HEAD").strip()
    _push_committed_v2(source)
    get(str(source.root), "data/raw", rev="v1.0", out=tmp_path / "at-tag")
    get(str(source.root), "data/raw/", rev=first, out=tmp_path / "at-commit")
    get(str(source.root), "data/raw", out=tmp_path / "at-head")
    assert _texts(tmp_path / "at-tag") == V1
    assert _texts(tmp_path / "at-commit") == V1
    assert _texts(tmp_path / "at-head") == V2


def _push_committed_v2(src: Workspace) -> str:
    local = src.root / ".strata" / "config.local.toml"
    secret = local.read_text()
    local.unlink()
    for name in V1:
        (src.root / "data" / "raw" / name).unlink()
    make_folder(src.root / "data" / "raw", V2)
    src = Workspace(src.root)
    src.files.add([src.root / "data" / "raw"])
    commit = commit_all(src.root, "v2")
    src.remotes.push()
    src.close()
    local.write_text(secret)
    return commit


def _texts(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()
    }


def test_import_records_the_origin_and_update_brings_newer_versions(
    source: Workspace, make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    ws = make_workspace("consumer")
    first = git(source.root, "rev-parse", "HEAD").strip()
    out = cli("import", str(source.root), "data/raw", "--rev", "main", "-o", "raw", cwd=ws.root)
    assert out.code == 0, out.stderr
    assert _texts(ws.root / "raw") == V1
    pointer = tomllib.loads((ws.root / "raw.strata").read_text())
    assert pointer["origin"] == {
        "repo": str(source.root),
        "path": "data/raw",
        "rev": "main",
        "commit": first,
    }
    assert "/raw" in (ws.root / ".gitignore").read_text().splitlines()
    pinned = ws.remotes.import_path(str(source.root), "model.bin", rev="v1.0")
    assert pinned.path == "model.bin" and (ws.root / "model.bin").read_text() == "weights"
    assert [r.changed for r in ws.remotes.update()] == [False, False], "nothing changed there yet"

    second = _push_committed_v2(source)
    results = {r.path: r for r in ws.remotes.update()}
    assert results["raw"].changed and results["raw"].commit == second
    assert results["raw"].previous_commit == first
    assert not results["model.bin"].changed, "a tag still names the same commit"
    assert _texts(ws.root / "raw") == V2
    assert tomllib.loads((ws.root / "raw.strata").read_text())["origin"]["commit"] == second
    again = cli("update", "raw", "--json", cwd=ws.root)
    assert again.json()[0]["changed"] is False  # type: ignore[index]
    assert ws.files.status() and all(s.state == "unchanged" for s in ws.files.status())


def test_secrets_of_the_other_repository_are_not_copied(
    source: Workspace, make_workspace: WorkspaceFactory
) -> None:
    ws = make_workspace("consumer")
    ws.remotes.import_path(str(source.root), "model.bin")  # its local url points nowhere: unused
    written = [
        p for p in ws.root.rglob("*") if p.is_file() and ".git" not in p.relative_to(ws.root).parts
    ]
    assert not any(b"s3cret" in p.read_bytes() for p in written if "cache" not in p.parts)


def test_the_recorded_url_carries_no_credentials() -> None:
    from strata.files.imports import public_url

    assert public_url("https://user:token@example.com/x.git") == "https://example.com/x.git"
    assert public_url("/srv/repos/x") == "/srv/repos/x"


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("{missing}", "data/raw"), UserInputError.exit_code, "not found"),
        (("{src}", "data/nothing"), NotTrackedError.exit_code, "not tracked"),
        (("{src}", "data/raw", "--rev", "no-such-rev"), GitError.exit_code, "no-such-rev"),
        (("{src}", "../etc/passwd"), UserInputError.exit_code, "climbs out"),
        (("{bare}", "data/raw"), RemoteError.exit_code, "no default remote"),
        (("{plain}", "data/raw"), UserInputError.exit_code, "not a Strata repository"),
        (("{url}", "data/raw"), RemoteError.exit_code, "relative folder"),
        (("{url}/nope", "data/raw"), GitError.exit_code, "cannot clone"),
    ],
)
@pytest.mark.parametrize("command", ["get", "import"])
def test_bad_input_is_one_line_and_writes_nothing(
    source: Workspace,
    make_workspace: WorkspaceFactory,
    tmp_path: Path,
    cli: Cli,
    command: str,
    args: tuple[str, ...],
    code: int,
    fragment: str,
) -> None:
    bare = make_workspace("bare")  # a Strata repository without a remote
    commit_all(bare.root, "nothing")
    plain = tmp_path / "plain"  # a git repository without Strata
    plain.mkdir()
    git(plain, "init", "-q")
    commit_all(plain, "empty")
    ws = make_workspace("consumer")
    names = {"missing": str(tmp_path / "nope"), "src": str(source.root)}
    names["url"] = source.root.as_uri()  # a git URL: its relative remote is out of reach
    names |= {"bare": str(bare.root), "plain": str(plain)}
    before = snapshot(ws.root)
    out = cli(command, *(a.format(**names) for a in args), cwd=ws.root)
    assert_one_line_error(out, code, fragment)
    assert snapshot(ws.root) == before


def test_import_refuses_an_existing_path_and_update_a_plain_one(
    source: Workspace, make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    ws = make_workspace("consumer")
    write(ws.root / "model.bin", "mine")
    before = snapshot(ws.root)
    out = cli("import", str(source.root), "model.bin", cwd=ws.root)
    assert_one_line_error(out, UserInputError.exit_code, "exists already")
    assert snapshot(ws.root) == before
    ws.files.add(["model.bin"])
    out = cli("update", "model.bin", cwd=ws.root)
    assert_one_line_error(out, UserInputError.exit_code, "was not imported")
