"""``strata``: the command-line entry point and its top-level commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from strata import __version__
from strata.cli.lazy import Lazy, lazy_group
from strata.cli.output import console, handle_errors, print_json, set_debug, set_quiet
from strata.cli.source import SERVER_VARIABLE, TOKEN_VARIABLE, configure, local_only

# Where commands come from: modules whose ``register(app)`` adds several top-level commands
# and groups, Typer groups, and a command function.
FILES = "strata.cli.files_cmds:register"
REMOTES = "strata.cli.remote_cmds:register"
LINEAGE = "strata.cli.lineage_cmds:register"
PIPELINES = "strata.cli.pipeline_cmds:register"
GUARD = "strata.cli.guard_cmds:register"
USERS = "strata.cli.user_cmds:register"
SERVER = "strata.cli.server_cmds:register"
CONFIG = "strata.cli.config_cmds:app"
TABLES = "strata.cli.table_cmds:app"
MODELS = "strata.cli.model_cmds:app"
AUDIT = "strata.cli.model_cmds:audit"
RELEASES = "strata.cli.release_cmds:app"
INCIDENTS = "strata.cli.release_cmds:incident_app"
MIGRATE = "strata.cli.migrate_cmds:app"

# Every command but ``init`` and ``demo`` (below): its name → where it comes from (a
# ``register`` hook, a Typer group, or a command function; see strata.cli.lazy) and its line in
# ``strata --help``, which shows this text without importing the module (a test holds it equal
# to the command's own help). A new command is one line here, in the order --help lists them.
COMMANDS = {
    "add": Lazy(FILES, "Track files or folders: contents into the cache, a..."),
    "status": Lazy(FILES, "What changed in the workspace against the pointers; with..."),
    "checkout": Lazy(FILES, "Restore tracked data from the pointers, or from the..."),
    "diff": Lazy(FILES, "Files added, modified and deleted between two git..."),
    "gc": Lazy(FILES, "Remove cached objects no pointer needs (on every branch..."),
    "verify": Lazy(FILES, "Re-hash the cache (or, with --remote, the remote's..."),
    "push": Lazy(REMOTES, "Upload what the remote lacks."),
    "fetch": Lazy(REMOTES, "Download into the cache what the pointers need."),
    "pull": Lazy(REMOTES, "Fetch, then check out."),
    "get": Lazy(REMOTES, "Download a tracked path from another Strata repository; no..."),
    "update": Lazy(REMOTES, "Bring newer versions of imported paths (re-resolves each..."),
    "import": Lazy(REMOTES, "Bring a tracked path from another Strata repository,..."),
    "run": Lazy(LINEAGE, "Run a command as a recorded run: params, metrics,..."),
    "lineage": Lazy(LINEAGE, "The lineage graph around a version or range."),
    "provenance": Lazy(LINEAGE, "Data → features → code → run → model → serving, for one..."),
    "impact": Lazy(LINEAGE, "Everything downstream of bad data: runs, data, models and..."),
    "compare": Lazy(LINEAGE, "Did the data, the code, the params or the environment change?"),
    "reproduce": Lazy(LINEAGE, "Recreate the code, inputs, params and packages behind a..."),
    "repro": Lazy(PIPELINES, "Run the pipeline stages whose command, dependencies or..."),
    "dag": Lazy(PIPELINES, "The stage graph."),
    "rollback": Lazy(GUARD, "Roll a model or a table back, or check that a model..."),
    "drift": Lazy(GUARD, "Population Stability Index and null-rate change per column."),
    "grant": Lazy(USERS, "Raise a user's role on one model or table, stages and..."),
    "server": Lazy(SERVER, "Serve the REST API at /api/v1 (OpenAPI at /openapi.json,..."),
    "audit": Lazy(AUDIT, "The registry's trail across every model (or one), newest..."),
    "remote": Lazy(REMOTES, "Where data is shared: folders, s3://, gs://, az://."),
    "runs": Lazy(LINEAGE, "Recorded runs."),
    "features": Lazy(LINEAGE, "Feature sets: versioned lists of feature names and..."),
    "deploy": Lazy(LINEAGE, "Where model versions serve."),
    "openlineage": Lazy(LINEAGE, "OpenLineage events in and out."),
    "stage": Lazy(PIPELINES, "Pipeline stages in strata.yaml."),
    "metrics": Lazy(PIPELINES, "Metrics the stages write, across revisions."),
    "params": Lazy(PIPELINES, "Params the stages use, across revisions."),
    "plots": Lazy(PIPELINES, "Plots of series the stages write, across revisions."),
    "config": Lazy(CONFIG, "Read and change .strata/config.toml."),
    "table": Lazy(TABLES, "Versioned tables on open formats (Delta Lake by default,..."),
    "model": Lazy(MODELS, "The model registry: versions, semvers, stages, aliases and..."),
    "guard": Lazy(GUARD, "Roll models back by policy when serving metrics cross a..."),
    "release": Lazy(RELEASES, "Named sets of code, model, table and file versions that..."),
    "incident": Lazy(INCIDENTS, "Incident reports from the audit trail and lineage."),
    "migrate": Lazy(MIGRATE, "Bring another tool's history into Strata. Example: strata..."),
    "user": Lazy(USERS, "Users of a Strata server and their roles (viewer, editor,..."),
    "token": Lazy(USERS, "API tokens: a user's secret for the server, shown once,..."),
}

SETTINGS: dict[str, Any] = {
    "name": "strata",
    "help": "Version the files, tables and models an ML system is made of, and roll back.",
    "no_args_is_help": True,
    "add_completion": False,
    "pretty_exceptions_enable": False,
    "rich_markup_mode": None,
}
app = typer.Typer(cls=lazy_group(COMMANDS, SETTINGS), **SETTINGS)


def _version(value: bool) -> None:
    if value:
        console.print(f"strata {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress bars (results, warnings and errors still print)."
        ),
    ] = False,
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
    set_quiet(quiet)
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
    from strata.workspace import Workspace

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
    """Console-script entry point; ``--debug`` (tracebacks) and ``--quiet`` (no progress
    bars) work anywhere on the line before a ``--``."""
    import sys

    args = sys.argv[1:]
    cut = args.index("--") if "--" in args else len(args)
    head, tail = args[:cut], args[cut:]
    hoisted = [flag for flag in ("--debug", "--quiet") if flag in head]
    if "--debug" in hoisted:
        set_debug(True)
    args = [*hoisted, *[a for a in head if a not in hoisted], *tail]
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
