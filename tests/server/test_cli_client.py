"""The command line as a client: with STRATA_SERVER and STRATA_TOKEN, run from a folder that is
no workspace, the model, lineage and audit commands go through a real ``strata server`` and print
what the same commands print on the workspace; the others refuse with one line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from factories import Outcome, assert_one_line_error, free_port, run_strata
from server_support import Server, Site, make_site, served


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return make_site(tmp_path_factory.mktemp("client") / "ws", None)


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    yield from served(site)


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("laptop")  # no workspace, no database


def remote(site: Site, server: Server, cwd: Path, user: str, *args: str) -> Outcome:
    env = {**site.env, "STRATA_SERVER": server.url, "STRATA_TOKEN": site.tokens[user]}
    env.pop("STRATA_USER")
    return run_strata(*args, cwd=cwd, env=env)


def local(site: Site, *args: str) -> Outcome:
    return run_strata(*args, cwd=site.root, env=site.env)


def test_a_maintainer_promotes_with_a_token_and_the_trail_names_them(
    site: Site, server: Server, elsewhere: Path
) -> None:
    done = remote(site, server, elsewhere, "ana", "model", "promote", "model:clf@2",
                  "--stage", "production", "--reason", "from CI")  # fmt: skip
    assert done.code == 0, done.stderr
    assert "v2 stage none → production" in done.stdout and "by ana" in done.stdout
    trail = remote(site, server, elsewhere, "bo", "model", "history", "clf", "--json").json()
    assert isinstance(trail, list)
    assert trail[-1]["actor"] == "ana" and trail[-1]["reason"] == "from CI"
    assert trail == local(site, "model", "history", "clf", "--json").json()
    audit = remote(site, server, elsewhere, "bo", "audit", "--model", "clf", "--limit", "1")
    assert audit.code == 0 and "by ana" in audit.stdout and "from CI" in audit.stdout


def test_a_viewer_may_not_promote(site: Site, server: Server, elsewhere: Path) -> None:
    refused = remote(site, server, elsewhere, "bo", "model", "promote", "model:clf@3",
                     "--stage", "production")  # fmt: skip
    assert_one_line_error(refused, 16, "bo may not write model:clf")
    shown = local(site, "model", "show", "model:clf@3", "--json").json()
    assert isinstance(shown, dict) and shown["stage"] != "production"


def test_reads_print_what_the_workspace_prints(site: Site, server: Server, elsewhere: Path) -> None:
    local(site, "model", "promote", "model:race@4", "--stage", "production")
    for args in (
        ("model", "resolve", "model:race@production", "--json"),
        ("model", "resolve", "model:race@production"),
        ("model", "show", "model:race@production", "--json"),
        ("model", "show", "model:race@4"),
        ("model", "versions", "race", "--desc", "--limit", "3"),
        ("model", "list", "--json"),
        ("lineage", "model:clf@1", "--json"),
        ("lineage", "table:deliveries@0", "--downstream", "--format", "mermaid"),
        ("impact", "table:deliveries@0", "--json"),
        ("compare", "model:clf@1", "model:clf@2"),
    ):
        there, here = remote(site, server, elsewhere, "bo", *args), local(site, *args)
        assert there.code == 0 == here.code, (args, there.stderr, here.stderr)
        assert there.stdout == here.stdout, args
    chains = [
        run("provenance", "model:clf@1", "--json").json()
        for run in (
            lambda *a: remote(site, server, elsewhere, "bo", *a),
            lambda *a: local(site, *a),
        )
    ]
    for chain in chains:
        assert isinstance(chain, dict)
        chain.pop("generated_at")  # when it was asked
    assert chains[0] == chains[1]


def test_changes_and_their_refusals_keep_their_exit_codes(
    site: Site, server: Server, elsewhere: Path
) -> None:
    ana = ("model", "alias", "set", "model:other@1", "gold", "--protected")
    assert remote(site, server, elsewhere, "ana", *ana).code == 0
    moved = remote(site, server, elsewhere, "bo", "model", "alias", "set", "model:race@1", "x")
    assert_one_line_error(moved, 16, "bo may not write model:race")
    again = remote(site, server, elsewhere, "ana", "model", "alias", "rm", "other", "gold")
    assert_one_line_error(again, 32, "protected")  # ProtectedAliasError, as on the workspace
    gone = remote(site, server, elsewhere, "ana", "model", "show", "model:nope@1")
    assert_one_line_error(gone, 30, "nope")
    back = remote(site, server, elsewhere, "ana", "model", "rollback", "clf", "--reason", "x")
    assert_one_line_error(back, 30, "clf")  # nothing held production before v2


def test_bad_tokens_unreachable_servers_and_commands_not_offered(
    site: Site, server: Server, elsewhere: Path
) -> None:
    env = {**site.env, "STRATA_SERVER": server.url, "STRATA_TOKEN": "strata_wrong"}
    wrong = run_strata("model", "list", cwd=elsewhere, env=env)
    assert_one_line_error(wrong, 15, "token", server.url)
    nowhere = f"http://127.0.0.1:{free_port()}"
    down = run_strata("--server", nowhere, "model", "list", cwd=elsewhere, env=site.env)
    assert_one_line_error(down, 14, "cannot reach", nowhere)
    for args in (("model", "register", "x", "f.bin"), ("status",), ("model", "tag", "model:a@1")):
        refused = remote(site, server, elsewhere, "ana", *args)
        assert_one_line_error(refused, 3, "does not work through a Strata server", server.url)
    at = remote(
        site, server, elsewhere, "ana", "model", "resolve", "model:clf@2", "--at", "2024-01-01"
    )
    assert_one_line_error(at, 3, "--at")
    bad = run_strata("--server", "ftp://x", "model", "list", cwd=elsewhere, env=site.env)
    assert_one_line_error(bad, 2, "ftp://x")


def test_guard_release_incident_and_rollback_commands_go_through_the_server(
    site: Site, server: Server, elsewhere: Path
) -> None:
    with site.workspace() as ws:
        ws.recovery.releases.create("r1", tables=["table:deliveries@0"])
    (site.root / "guard.yaml").write_text(
        "metrics:\n  source: file\n  path: m.json\nmodels:\n  race:\n"
        "    conditions: [error_rate > 0.05]\n"
    )
    (site.root / "m.json").write_text('{"race": {"error_rate": 0.5}}')
    for args in (
        ("release", "list"),
        ("release", "show", "r1", "--json"),
        ("release", "diff", "r1", "r1"),
        ("guard", "check", "--policy", "guard.yaml", "--dry-run", "--json"),
        ("guard", "history", "--json"),
        ("rollback", "check", "model:clf"),
        ("rollback", "check", "model:race", "--json"),
    ):
        there, here = remote(site, server, elsewhere, "bo", *args), local(site, *args)
        assert there.code == here.code and there.code in (0, 50), (args, there.stderr)
        assert there.stdout == here.stdout, args
    report = ("incident", "report", "--since", "1h", "--model", "clf")
    there, here = remote(site, server, elsewhere, "bo", *report), local(site, *report)
    assert there.code == 0 == here.code, there.stderr
    assert "by ana" not in there.stdout and "· ana ·" in there.stdout
    assert _without_generated(there.stdout) == _without_generated(here.stdout)
    refused = remote(site, server, elsewhere, "bo", "rollback", "table:deliveries", "--to", "0")
    assert_one_line_error(refused, 16, "bo may not promote table:deliveries")
    for args in (("guard", "watch", "--policy", "g.yaml"), ("release", "create", "r2")):
        not_offered = remote(site, server, elsewhere, "ana", *args)
        assert_one_line_error(not_offered, 3, "does not work through a Strata server")


def _without_generated(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "generated" not in line)
