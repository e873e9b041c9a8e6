"""Start-up imports only what the command needs: ``strata --help`` lists every command from
the table in ``strata.cli.main`` without importing a command module or a heavy library, and
``strata status`` imports the file commands alone. Checked on ``sys.modules``, not on time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer
import typer.main
from typer.core import TyperCommand

from factories import WorkspaceFactory, write
from strata.cli.main import COMMANDS, SETTINGS, app

# What a listing or a quick command must never pay for.
HEAVY = (
    "pyarrow",
    "deltalake",
    "pyiceberg",
    "sqlalchemy",
    "alembic",
    "fastapi",
    "pydantic",
    "uvicorn",
    "fsspec",
    "pandas",
    "polars",
)
# Runs ``strata ARGS...`` as the console script does; prints the modules it loaded.
HARNESS = """
import atexit, json, sys
atexit.register(lambda: print("MODULES", json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["strata", *sys.argv[1:]]
from strata.cli.main import run
run()
"""


def loaded_by(*args: str, cwd: Path) -> tuple[str, set[str]]:
    """The output of ``strata ARGS`` run in a new interpreter, and the modules it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", HARNESS, *args], cwd=cwd, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES "))
    return done.stdout, set(json.loads(line.removeprefix("MODULES ")))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def command_modules(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.startswith("strata.cli.") and m.endswith("_cmds"))


def listed(help_text: str) -> list[str]:
    """Command names in the Commands section of a --help text, in order."""
    section = help_text.split("Commands:", 1)[1]
    return [line.split()[0] for line in section.splitlines() if line.startswith("  ")]


def test_help_lists_every_command_and_imports_no_command_module(tmp_path: Path) -> None:
    out, modules = loaded_by("--help", cwd=tmp_path)
    assert listed(out) == ["init", "demo", *COMMANDS]
    assert heavy(modules) == []
    assert command_modules(modules) == []
    assert "strata.workspace" not in modules
    assert "rich" not in modules  # --help prints through click


def test_status_imports_the_file_commands_alone(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(git=False)
    write(ws.root / "a.csv", "1\n")
    ws.files.add(["a.csv"])
    out, modules = loaded_by("status", cwd=ws.root)
    assert "matches its pointers (1 tracked)" in out
    assert command_modules(modules) == ["strata.cli.files_cmds"]
    assert heavy(modules) == []
    assert "rich" not in modules  # nothing to colour
    other_operations = {"strata.files.add", "strata.files.diff", "strata.files.gc"}
    assert sorted(other_operations & modules) == []


def test_each_line_of_help_is_the_commands_own() -> None:
    """The table's line for a command shortens as the command's own help does, at every width
    ``--help`` can have (at most 78 columns, less the longest name)."""
    group = typer.main.get_command(app)
    ctx = typer.Context(group)
    widest = 78 - 6 - max(len(name) for name in group.list_commands(ctx))
    for name, lazy in COMMANDS.items():
        real = group.get_command(ctx, name)
        assert real is not None, name
        stand_in = TyperCommand(name, help=lazy.help)
        for limit in range(20, widest + 1):
            assert stand_in.get_short_help_str(limit) == real.get_short_help_str(limit), name


def test_every_command_a_module_registers_is_in_the_table() -> None:
    """A command added to a module's ``register`` hook but not to the table would be missing
    from ``strata``: build each hook on a bare app and compare."""
    import importlib

    for target in sorted({lazy.target for lazy in COMMANDS.values()}):
        module, attribute = target.split(":")
        if attribute != "register":
            continue
        root = typer.Typer(**SETTINGS)
        getattr(importlib.import_module(module), attribute)(root)
        made = typer.main.get_group(root).commands
        assert sorted(set(made) - set(COMMANDS)) == [], target
        assert all(COMMANDS[name].target == target for name in made), target


def test_an_unknown_command_suggests_a_lazy_one(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", HARNESS, "stauts"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "Did you mean 'status'?" in done.stderr
