"""``strata``: the command-line entry point and its top-level commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from strata import __version__
from strata.cli import (
    config_cmds,
    files_cmds,
    guard_cmds,
    lineage_cmds,
    migrate_cmds,
    model_cmds,
    pipeline_cmds,
    release_cmds,
    remote_cmds,
    server_cmds,
    table_cmds,
    user_cmds,
)
from strata.cli.output import console, handle_errors, print_json, set_debug
from strata.cli.source import SERVER_VARIABLE, TOKEN_VARIABLE, configure, local_only
from strata.workspace import Workspace

app = typer.Typer(
    name="strata",
    help="Version the files, tables and models an ML system is made of, and roll back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
files_cmds.register(app)
remote_cmds.register(app)
lineage_cmds.register(app)
pipeline_cmds.register(app)
app.add_typer(config_cmds.app, name="config")
app.add_typer(table_cmds.app, name="table")
app.add_typer(model_cmds.app, name="model")
guard_cmds.register(app)
app.add_typer(release_cmds.app, name="release")
app.add_typer(release_cmds.incident_app, name="incident")
app.add_typer(migrate_cmds.app, name="migrate")
user_cmds.register(app)
server_cmds.register(app)
app.command("audit")(model_cmds.audit)


def _version(value: bool) -> None:
    if value:
        console.print(f"strata {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar=SERVER_VARIABLE,
            help="A Strata server (http://HOST:PORT) to send the model, lineage and audit "
            "commands to, instead of the workspace here.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar=TOKEN_VARIABLE, help="The token for --server.", show_default=False
        ),
    ] = None,
) -> None:
    """Strata: data, model and lineage versioning with rollback."""
    set_debug(debug)
    configure(server, token)


@app.command()
@handle_errors
@local_only
def init(
    path: Annotated[Path, typer.Argument(help="Project folder.")] = Path(),
    no_git: Annotated[bool, typer.Option("--no-git", help="A plain folder, not git.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Initialise again.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Make a folder a Strata workspace (writes .strata/).

    Example: git init && strata init
    """
    ws = Workspace.init(path, git=not no_git, force=force)
    if json_out:
        print_json({"root": str(ws.root), "git": not no_git})
    else:
        console.print(f"Initialised a Strata workspace in {ws.root}")
    ws.close()


@app.command()
@handle_errors
@local_only
def demo(
    keep: Annotated[bool, typer.Option("--keep", help="Keep the demo workspace.")] = False,
) -> None:
    """Tell the story so far in a throwaway workspace.

    Example: strata demo
    """
    from strata.cli.demo import run_demo

    run_demo(keep=keep)


def run() -> None:
    """Console-script entry point; ``--debug`` anywhere on the line shows tracebacks."""
    import sys

    args = sys.argv[1:]
    cut = args.index("--") if "--" in args else len(args)
    if "--debug" in args[:cut]:
        set_debug(True)
        args = ["--debug", *[a for a in args[:cut] if a != "--debug"], *args[cut:]]
    try:
        app(args=args, prog_name="strata")
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


def _leave(code: str | int | None) -> None:
    """Exit with ``code``; after a command that loaded Arrow, without the interpreter's
    teardown (exit handlers run, output is flushed), because the thread pools of Arrow and
    delta-rs can crash or hang when the interpreter is torn down beneath them."""
    import atexit
    import os
    import sys

    if "pyarrow" not in sys.modules:
        sys.exit(code)
    if isinstance(code, str):
        print(code, file=sys.stderr)
    status = code if isinstance(code, int) else 0 if code is None else 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            status = status or 1  # a closed pipe: the output did not all arrive
    os._exit(status)
