"""Remotes, push, fetch and pull: a local folder and a real S3-protocol server on loopback."""

from __future__ import annotations

import os
import shutil
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
from pack_support import drop_entry, tamper
from strata import Workspace
from strata.errors import RemoteError, UserInputError


def _tracked_data(ws: Workspace) -> dict[str, str]:
    write(ws.root / "model.bin", "weights")
    expected = make_folder(ws.root / "raw", {"a.csv": "1\n", "sub/b.csv": "2\n"})
    ws.files.add(["model.bin", "raw"])
    commit_all(ws.root, "data")
    return file_hashes(expected)


def _fresh_clone(ws: Workspace, make_workspace: WorkspaceFactory, name: str) -> Workspace:
    """A second checkout of the same git repository, with an empty cache."""
    clone = ws.root.parent / name
    git(ws.root.parent, "clone", "-q", str(ws.root), str(clone))
    return make_workspace.open(clone)


def _add_remote(ws: Workspace, url: str, options: dict[str, str]) -> None:
    ws.remotes.add("shared", url, default=True)
    for key, value in options.items():
        ws.remotes.modify("shared", key, value)


def test_push_then_pull_into_a_fresh_clone_brings_everything(
    make_workspace: WorkspaceFactory, remote_url: tuple[str, dict[str, str]]
) -> None:
    ws = make_workspace()
    expected = _tracked_data(ws)
    _add_remote(ws, *remote_url)
    commit_all(ws.root, "remote")
    pushed = ws.remotes.push()
    assert (len(pushed.transferred), pushed.failed) == (4, ())  # 2 files, listing, model
    assert len(ws.remotes.push().transferred) == 0, "a second push sends nothing"

    clone = _fresh_clone(ws, make_workspace, "clone")
    fetched, restored = clone.remotes.pull()
    assert (len(fetched.transferred), fetched.failed) == (4, ())
    assert {r.path for r in restored} == {"model.bin", "raw"}
    assert file_hashes(clone.root / "raw") == expected
    assert (clone.root / "model.bin").read_text() == "weights"
    assert clone.files.verify().ok
    again = clone.remotes.fetch()
    assert (len(again.transferred), again.present) == (0, 4), "a second fetch moves nothing"


def test_pull_json_names_what_was_checked_out(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    ws = make_workspace()
    _tracked_data(ws)
    _add_remote(ws, str(tmp_path / "remote"), {})
    commit_all(ws.root, "remote")
    ws.remotes.push()
    clone = _fresh_clone(ws, make_workspace, "clone")
    out = cli("pull", "--json", cwd=clone.root)
    assert out.code == 0, out.stderr
    restored = out.json()["restored"]  # type: ignore[index]
    assert sorted(r["path"] for r in restored) == ["model.bin", "raw"]


def test_a_failure_reason_with_brackets_is_printed_as_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import typer

    from strata.cli.remote_cmds import _report
    from strata.objects.remote_listing import Failure, TransferResult

    reason = "cannot read s3://bucket/data[/raw]/ab: denied"
    result = TransferResult(failed=(Failure("ab" * 32, reason, "unreadable"),))
    with pytest.raises(typer.Exit):
        _report("fetched", result, json_out=False)
    assert reason in capsys.readouterr().out


def test_only_missing_objects_move(make_workspace: WorkspaceFactory, tmp_path: Path) -> None:
    ws = make_workspace()
    _tracked_data(ws)
    _add_remote(ws, str(tmp_path / "remote"), {})
    ws.remotes.push()
    write(ws.root / "raw" / "a.csv", "1 changed\n")
    ws.files.add(["raw"])
    second = ws.remotes.push()
    assert len(second.transferred) == 2  # the changed file and the new listing
    assert second.present == 2  # the model and the unchanged file


def test_a_corrupt_remote_object_is_reported_and_never_checked_out(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    ws = make_workspace()
    _tracked_data(ws)
    remote = tmp_path / "remote"
    _add_remote(ws, str(remote), {})
    commit_all(ws.root, "remote")
    ws.remotes.push()
    digest = tomllib.loads((ws.root / "model.bin.strata").read_text())["hash"]
    tamper(ws.remotes.open(), digest)

    clone = _fresh_clone(ws, make_workspace, "clone")
    fetched, restored = clone.remotes.pull()
    assert [f.name for f in fetched.failed] == [digest]
    assert "corrupt" in fetched.failed[0].reason
    assert restored == [], "nothing is checked out when an object failed"
    assert not (clone.root / "model.bin").exists()
    assert not clone.store.exists(digest)


def test_pull_cli_exits_non_zero_naming_the_failure(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    ws = make_workspace()
    _tracked_data(ws)
    _add_remote(ws, str(tmp_path / "remote"), {})
    commit_all(ws.root, "remote")  # nothing pushed: the remote is empty
    clone = _fresh_clone(ws, make_workspace, "clone")
    out = cli("pull", "--json", cwd=clone.root)
    assert out.code == RemoteError.exit_code
    assert len(out.json()["failed"]) == 2  # type: ignore[index]  # model and listing


def test_an_unreachable_remote_is_one_clear_error(
    make_workspace: WorkspaceFactory, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace()
    _tracked_data(ws)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    _add_remote(ws, "s3://nowhere/store", {"endpoint_url": "http://127.0.0.1:9"})
    before = snapshot(ws.root)
    out = cli("push", cwd=ws.root)
    assert_one_line_error(out, RemoteError.exit_code, "remote 'shared'", "cannot")
    assert snapshot(ws.root) == before


def test_a_missing_bucket_is_one_clear_error(
    make_workspace: WorkspaceFactory, s3_endpoint: str, s3_bucket: str
) -> None:
    ws = make_workspace()
    _tracked_data(ws)
    _add_remote(ws, f"s3://{s3_bucket}-missing/store", {"endpoint_url": s3_endpoint})
    with pytest.raises(RemoteError) as info:
        ws.remotes.push()
    assert "shared" in info.value.message


def test_remote_commands_manage_the_config(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = make_workspace()
    assert cli("remote", "add", "backup", "/srv/backup", "--default", cwd=ws.root).code == 0
    assert cli("remote", "modify", "backup", "profile", "team", "--local", cwd=ws.root).code == 0
    listed = cli("remote", "list", "--json", cwd=ws.root).json()
    assert listed == [{"name": "backup", "default": True, "url": "/srv/backup", "profile": "team"}]
    committed = (ws.root / ".strata" / "config.toml").read_text()
    assert "team" not in committed, "settings given with --local stay out of git"
    assert_one_line_error(cli("remote", "add", "backup", "/x", cwd=ws.root), 2, "exists")
    assert cli("remote", "remove", "backup", cwd=ws.root).code == 0
    assert cli("remote", "list", "--json", cwd=ws.root).json() == []
    with pytest.raises(UserInputError):
        make_workspace.open(ws.root).remotes.open()


def test_a_push_that_stopped_part_way_resumes_and_everything_arrives(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    ws = make_workspace()
    expected = _tracked_data(ws)
    remote = tmp_path / "remote"
    _add_remote(ws, str(remote), {})
    commit_all(ws.root, "remote")
    ws.remotes.push(["model.bin"])  # a push that stopped part-way: some objects are there
    (remote / "tmp").mkdir(exist_ok=True)
    (remote / "tmp" / "leftover.tmp").write_bytes(b"half an upload")
    resumed = ws.remotes.push()
    assert len(resumed.transferred) == 3 and resumed.present == 1
    clone = _fresh_clone(ws, make_workspace, "clone")
    clone.remotes.pull()
    assert file_hashes(clone.root / "raw") == expected
    shutil.rmtree(remote / "tmp")


def test_status_remote_says_what_push_and_pull_would_move(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    ws = make_workspace()
    _tracked_data(ws)
    _add_remote(ws, str(tmp_path / "remote"), {})
    commit_all(ws.root, "remote")
    before = {s.path: (s.not_pushed, s.not_pulled) for s in ws.remotes.status()}
    assert before == {"model.bin": (1, 0), "raw": (3, 0)}
    ws.remotes.push(["raw"])
    after = {s.path: (s.not_pushed, s.not_pulled) for s in ws.remotes.status()}
    assert after == {"model.bin": (1, 0), "raw": (0, 0)}
    clone = _fresh_clone(ws, make_workspace, "clone")
    out = cli("status", "--remote", "--json", cwd=clone.root)
    assert out.code == 0, out.stderr
    assert {row["path"]: row["not_pulled"] for row in out.json()} == {  # type: ignore[union-attr]
        "model.bin": 0,
        "raw": 1,  # the listing; its files are known once it is fetched
    }


def test_verify_remote_names_a_corrupt_remote_object(
    make_workspace: WorkspaceFactory, remote_url: tuple[str, dict[str, str]], cli: Cli
) -> None:
    ws = make_workspace()
    _tracked_data(ws)
    _add_remote(ws, *remote_url)
    ws.remotes.push()
    assert ws.remotes.verify().ok
    digest = tomllib.loads((ws.root / "model.bin.strata").read_text())["hash"]
    tamper(ws.remotes.open(), digest)
    result = ws.remotes.verify()
    assert [(p.hash, p.problem) for p in result.problems] == [(digest, "corrupt")]
    out = cli("verify", "--remote", "--json", cwd=ws.root)
    assert out.code == 9
    assert out.json()["problems"][0]["hash"] == digest  # type: ignore[index]


# -- chunked objects ----------------------------------------------------------------------------
def _chunky_versions(ws: Workspace, remote: Path) -> tuple[bytes, bytes]:
    """A 12 MiB file pushed, then changed in 64 KiB in the middle and pushed again."""
    first = os.urandom(12 * 1024 * 1024)
    second = first[: 6 * 1024 * 1024] + os.urandom(64 * 1024) + first[6 * 1024 * 1024 + 65536 :]
    _add_remote(ws, str(remote), {})
    write(ws.root / "table.csv", first)
    ws.files.add(["table.csv"])
    commit_all(ws.root, "v1")
    ws.remotes.push()
    return first, second


def test_a_changed_large_file_sends_only_new_chunks(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    ws = make_workspace()
    first, second = _chunky_versions(ws, tmp_path / "remote")
    write(ws.root / "table.csv", second)
    ws.files.add(["table.csv"])
    commit_all(ws.root, "v2")
    result = ws.remotes.push()
    assert len(result.transferred) == 1
    assert result.bytes < len(second) // 2, "most chunks were on the remote already"
    stored = sum(p.stat().st_size for p in (tmp_path / "remote").rglob("*") if p.is_file())
    assert stored < 1.6 * len(second), "two versions cost far less than twice the file"

    clone = _fresh_clone(ws, make_workspace, "clone")
    clone.remotes.pull()
    assert (clone.root / "table.csv").read_bytes() == second
    git(clone.root, "checkout", "-q", "HEAD~1", "--", "table.csv.strata")
    clone.remotes.pull()
    assert (clone.root / "table.csv").read_bytes() == first
    assert clone.remotes.verify().ok


def test_a_manifest_naming_a_missing_chunk_is_a_clear_error(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    ws = make_workspace()
    remote = tmp_path / "remote"
    _chunky_versions(ws, remote)
    digest = tomllib.loads((ws.root / "table.csv.strata").read_text())["hash"]
    chunk = ws.remotes.open().manifest(digest).chunks[1].hash
    drop_entry(ws.remotes.open(), chunk)
    clone = _fresh_clone(ws, make_workspace, "clone")
    fetched, restored = clone.remotes.pull()
    assert restored == []
    assert "missing" in fetched.failed[0].reason and chunk[:12] in fetched.failed[0].reason
    assert not (clone.root / "table.csv").exists()
