"""The command line's contract: --json wherever something is shown, one-line errors with
--debug for the traceback, and help that lists every command with an example."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer.main

from factories import (
    Cli,
    WorkspaceFactory,
    assert_one_line_error,
    commit_all,
    git_init,
    isolate_env,
    make_folder,
    run_strata,
    snapshot,
    write,
)
from strata.cli.main import app

COMMANDS = [
    "add",
    "status",
    "checkout",
    "diff",
    "gc",
    "verify",
    "init",
    "demo",
    "config",
    "remote",
    "push",
    "fetch",
    "pull",
]
CONFIG_COMMANDS = ["get", "set", "unset", "list"]
REMOTE_COMMANDS = ["add", "list", "remove", "modify"]
REGISTERED = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
# Commands that only change something and at most confirm it in a line, or tell a story (demo).
SHOW_NOTHING = {
    "config set",
    "config unset",
    "demo",
    "remote add",
    "remote modify",
    "remote remove",
    "table drop",
    "table export",
    "table unpin",
    "table checkpoint",
    "table tag",
    "table branch",
    "model alias set",
    "model alias rm",
    "server",  # runs a service; its answers are the API's JSON
}
# The file, remote and config commands, whose JSON this module runs; the other capabilities'
# test folders run theirs.
FILE_COMMANDS = {
    "add",
    "status",
    "diff",
    "checkout",
    "gc",
    "verify",
    "config get",
    "config list",
    "remote list",
    "push",
    "fetch",
    "pull",
    "init",
}


def _leaf_commands() -> dict[str, object]:
    """Every runnable command by its full name, however deeply its groups nest."""
    leaves: dict[str, object] = {}

    def visit(prefix: str, command: object) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                visit(f"{prefix} {name}".strip(), sub)
        else:
            leaves[prefix] = command

    visit("", typer.main.get_command(app))
    return leaves


# -- --json -----------------------------------------------------------------------------------
def test_every_command_that_shows_something_has_json() -> None:
    missing = [
        name
        for name, command in _leaf_commands().items()
        if name not in SHOW_NOTHING and not any("--json" in p.opts for p in command.params)  # type: ignore[attr-defined]
    ]
    assert missing == []


def test_every_json_option_is_the_one_of_the_output_layer() -> None:
    """``--json`` is declared once (``strata.cli.output.JsonOpt``), so its help and form are
    the same on every command."""
    import strata.cli

    folder = Path(strata.cli.__file__).parent
    declared = sorted(
        path.name
        for path in folder.glob("*.py")
        if path.name != "output.py"
        and re.search(r"^JsonOpt\b", path.read_text(encoding="utf-8"), re.MULTILINE)
    )
    assert declared == []


def test_json_output_of_every_command_parses(
    make_workspace: WorkspaceFactory, cli: Cli, tmp_path: Path
) -> None:
    ws = make_workspace(cache_type="copy")
    make_folder(ws.root / "raw", {"a.csv": "1\n", "b.csv": "2\n"})
    runs: dict[str, list[str]] = {
        "add": ["add", "raw", "--json"],
        "status": ["status", "--json"],
        "diff": ["diff", "--json"],
        "checkout": ["checkout", "--json"],
        "gc": ["gc", "--dry-run", "--json"],
        "verify": ["verify", "--json"],
        "config get": ["config", "get", "cache.type", "--json"],
        "config list": ["config", "list", "--json"],
        "remote list": ["remote", "list", "--json"],
        "push": ["push", "--json"],
        "fetch": ["fetch", "--json"],
        "pull": ["pull", "--json"],
    }
    assert set(runs) | {"init"} == FILE_COMMANDS
    commit_all(ws.root, "empty start")  # diff needs a HEAD
    assert cli("remote", "add", "r", str(tmp_path / "remote"), cwd=ws.root).code == 0
    for name, args in runs.items():
        out = cli(*args, cwd=ws.root)
        assert out.code == 0, (name, out.stderr)
        json.loads(out.stdout)
        if name == "add":
            commit_all(ws.root, "raw")
    other = tmp_path / "other"
    git_init(other)
    out = cli("init", "--json", cwd=other)
    assert out.code == 0, out.stderr
    assert json.loads(out.stdout) == {"root": str(other), "git": True}


def test_json_output_of_an_empty_workspace(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = make_workspace()
    out = cli("status", "--json", cwd=ws.root)
    assert out.code == 0
    assert out.json() == []


# -- --debug ----------------------------------------------------------------------------------
@pytest.fixture
def plain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder that is not a workspace."""
    isolate_env(monkeypatch, tmp_path)
    folder = tmp_path / "plain"
    folder.mkdir()
    return folder


@pytest.mark.slow
def test_an_error_is_one_line_without_debug(plain: Path) -> None:
    out = run_strata("status", cwd=plain)
    assert_one_line_error(out, 4, "not inside a Strata workspace")


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [["--debug", "status"], ["status", "--debug"]],
    ids=["before-the-command", "after-the-command"],
)
def test_debug_shows_the_traceback(plain: Path, args: list[str]) -> None:
    """run() promises: ``--debug`` anywhere on the line shows tracebacks."""
    out = run_strata(*args, cwd=plain)
    assert out.code == 4, out.stderr
    assert "Traceback (most recent call last)" in out.stderr
    assert "NotAWorkspaceError" in out.stderr
    assert out.stderr.rstrip().splitlines()[-1].startswith("error: ")


def test_debug_through_the_app(plain: Path, cli: Cli) -> None:
    out = cli("--debug", "status", cwd=plain)
    assert out.code == 4
    assert "Traceback" in out.stderr
    out = cli("status", cwd=plain)  # and it does not stick
    assert_one_line_error(out, 4)


# -- names that look like markup --------------------------------------------------------------
@pytest.mark.parametrize("name", ["[bold]raw[/bold].csv", "data[/x].csv", "[red]x"])
def test_an_error_naming_a_path_shows_it_as_it_is(
    make_workspace: WorkspaceFactory, cli: Cli, name: str
) -> None:
    ws = make_workspace()
    before = snapshot(ws.root)
    out = cli("add", name, cwd=ws.root)
    assert_one_line_error(out, 4, name, "does not exist")
    assert snapshot(ws.root) == before


def test_output_naming_a_path_shows_it_as_it_is(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = make_workspace()
    write(ws.root / "[bold]raw.csv", "1\n")
    out = cli("add", "[bold]raw.csv", cwd=ws.root)
    assert out.code == 0, out.stderr
    assert "added [bold]raw.csv" in out.stdout


# -- help -------------------------------------------------------------------------------------
def _listed(help_text: str) -> set[str]:
    """Command names in the Commands section of a --help text."""
    section = help_text.split("Commands:", 1)[1]
    return {line.split()[0] for line in section.splitlines() if line.startswith("  ")}


def test_help_lists_every_command(cli: Cli, tmp_path: Path) -> None:
    assert set(COMMANDS) <= set(REGISTERED)
    out = cli("--help", cwd=tmp_path)
    assert out.code == 0
    assert _listed(out.stdout) == set(REGISTERED)
    out = cli("config", "--help", cwd=tmp_path)
    assert out.code == 0
    assert _listed(out.stdout) == set(CONFIG_COMMANDS)
    out = cli("remote", "--help", cwd=tmp_path)
    assert _listed(out.stdout) == set(REMOTE_COMMANDS)


@pytest.mark.parametrize(
    "command",
    [[c] for c in REGISTERED]
    + [["config", c] for c in CONFIG_COMMANDS]
    + [["remote", c] for c in REMOTE_COMMANDS],
    ids=" ".join,
)
def test_every_command_help_has_an_example(cli: Cli, tmp_path: Path, command: list[str]) -> None:
    out = cli(*command, "--help", cwd=tmp_path)
    assert out.code == 0, out.stderr
    examples = [line for line in out.stdout.splitlines() if "Example:" in line]
    assert examples, out.stdout


@pytest.mark.slow
def test_the_installed_command_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch, tmp_path)
    root = tmp_path / "ws"
    git_init(root)
    assert run_strata("init", cwd=root).code == 0
    write(root / "data.csv", "1\n")
    out = run_strata("add", "data.csv", "--json", cwd=root)
    assert out.code == 0, out.stderr
    assert [row["path"] for row in out.json()] == ["data.csv"]  # type: ignore[union-attr,index]
    assert "Traceback" not in out.stderr
