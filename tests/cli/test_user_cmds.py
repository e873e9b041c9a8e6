"""``strata user``, ``strata token`` and ``strata grant`` from the command line."""

from __future__ import annotations

import pytest

from factories import Cli, WorkspaceFactory, assert_one_line_error


def test_users_tokens_and_grants_from_the_command_line(
    make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    ws = make_workspace()
    root = ws.root
    assert cli("user", "add", "ana", "--role", "maintainer", cwd=root).code == 0
    assert cli("user", "add", "bo", cwd=root).code == 0
    assert cli("grant", "bo", "model:clf", "--role", "editor", cwd=root).code == 0
    listed = cli("user", "list", "--json", cwd=root).json()
    assert [(u["name"], u["role"]) for u in listed] == [("ana", "maintainer"), ("bo", "viewer")]
    assert listed[1]["grants"] == [{"user": "bo", "target": "model:clf", "role": "editor"}]
    made = cli("token", "create", "ana", "--expires", "30d", "--json", cwd=root).json()
    principal = make_workspace.open(root).users.authenticate(made["token"])
    assert principal is not None and principal.name == "ana"
    shown = cli("token", "list", cwd=root).stdout
    assert made["id"] in shown and made["token"] not in shown
    revoked = cli("token", "revoke", "ana", cwd=root)
    assert revoked.code == 0 and "revoked 1 token of ana" in revoked.stdout
    assert make_workspace.open(root).users.authenticate(made["token"]) is None
    assert cli("user", "role", "bo", "admin", cwd=root).code == 0
    assert make_workspace.open(root).users.get("bo").role == "admin"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "add", "ana", "--role", "owner"), "bad role"),
        (("token", "create", "nobody"), "there is no user nobody"),
        (("token", "create", "ana", "--expires", "soon"), "bad --expires"),
        (("grant", "ana", "model:clf@3"), "bad grant target"),
    ],
)
def test_bad_input_is_one_line(
    make_workspace: WorkspaceFactory, cli: Cli, args: tuple[str, ...], message: str
) -> None:
    ws = make_workspace()
    assert cli("user", "add", "ana", cwd=ws.root).code == 0
    assert_one_line_error(cli(*args, cwd=ws.root), 2, message)
