"""Remote credentials: a password in a remote's URL or a secret setting never reaches the
committed config, and no listing or error prints it."""

from __future__ import annotations

import os
import tomllib

import pytest

from factories import Cli, WorkspaceFactory, commit_all, git, write
from strata import Workspace
from strata.errors import RemoteError

PASSWORD = "Pa55-w0rd"


def _committed(ws: Workspace) -> str:
    return (ws.root / ".strata" / "config.toml").read_text()


def _local(ws: Workspace) -> dict[str, object]:
    return tomllib.loads((ws.root / ".strata" / "config.local.toml").read_text())


def test_a_url_with_a_password_goes_to_the_local_config_with_a_warning(
    make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    ws = make_workspace()
    url = f"http://user:{PASSWORD}@127.0.0.1:9/store"
    out = cli("remote", "add", "web", url, "--default", cwd=ws.root)
    assert out.code == 0, out.stderr
    assert "warning: remote.web.url holds a credential" in out.stderr
    assert PASSWORD not in _committed(ws)
    assert _local(ws) == {"remote": {"web": {"url": url}}}
    assert make_workspace.open(ws.root).remotes.open().url == url, "the remote still works"
    listed = cli("remote", "list", "--json", cwd=ws.root)
    assert listed.json() == [
        {"name": "web", "default": True, "url": "http://user:***@127.0.0.1:9/store"}
    ]
    human = cli("remote", "list", cwd=ws.root)
    assert human.stdout.split() == ["web", "http://user:***@127.0.0.1:9/store", "(default)"]


def test_a_secret_setting_without_local_goes_to_the_local_config(
    make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    ws = make_workspace()
    assert cli("remote", "add", "storage", "s3://bucket/strata", cwd=ws.root).code == 0
    out = cli("remote", "modify", "storage", "secret_access_key", PASSWORD, cwd=ws.root)
    assert out.code == 0, out.stderr
    assert "warning: remote.storage.secret_access_key holds a credential" in out.stderr
    assert PASSWORD not in _committed(ws)
    assert _local(ws) == {"remote": {"storage": {"secret_access_key": PASSWORD}}}
    for args in (("remote", "list"), ("remote", "list", "--json"), ("config", "list")):
        shown = cli(*args, cwd=ws.root)
        assert shown.code == 0, shown.stderr
        assert PASSWORD not in shown.stdout
    listed = cli("remote", "list", "--json", cwd=ws.root).json()
    assert listed[0]["secret_access_key"] == "***"  # type: ignore[index]


def test_a_remote_error_does_not_print_the_password(
    make_workspace: WorkspaceFactory, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace()
    write(ws.root / "model.bin", "weights")
    ws.files.add(["model.bin"])
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    ws.remotes.add("shared", f"s3://user:{PASSWORD}@nowhere/store", default=True)
    ws.remotes.modify("shared", "endpoint_url", "http://127.0.0.1:9")
    ws.remotes.modify("shared", "secret_access_key", PASSWORD + "-key")
    commit_all(ws.root, "data")
    out = cli("push", cwd=ws.root)
    assert out.code == RemoteError.exit_code, out.stderr
    assert "remote 'shared' (s3://user:***@nowhere/store)" in out.stderr
    assert PASSWORD not in out.stdout + out.stderr
    assert PASSWORD not in git(ws.root, "show", "HEAD:.strata/config.toml")


@pytest.mark.parametrize("key", ["account_key", "sas_token", "connection_string", "token"])
def test_every_credential_like_setting_is_kept_local(
    make_workspace: WorkspaceFactory, key: str
) -> None:
    ws = make_workspace()
    ws.remotes.add("blob", "az://container/strata")
    assert ws.remotes.modify("blob", key, PASSWORD) == [f"remote.blob.{key}"]
    assert PASSWORD not in _committed(ws)


def test_credentials_in_the_local_config_reach_the_remote(
    make_workspace: WorkspaceFactory,
    s3_endpoint: str,
    s3_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from s3_server import CREDENTIALS

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    ws = make_workspace()
    write(ws.root / "model.bin", "weights")
    ws.files.add(["model.bin"])
    ws.remotes.add("storage", f"s3://{s3_bucket}/store", default=True)
    ws.remotes.modify("storage", "endpoint_url", s3_endpoint)
    ws.remotes.modify("storage", "access_key_id", CREDENTIALS["AWS_ACCESS_KEY_ID"])
    ws.remotes.modify("storage", "secret_access_key", CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    assert "strata-test" not in _committed(ws)
    pushed = ws.remotes.push()
    assert (len(pushed.transferred), pushed.failed) == (1, ())
