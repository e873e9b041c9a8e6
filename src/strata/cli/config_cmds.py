"""``strata config get|set|unset|list``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from strata.cli.output import JsonOpt, console, err_console, handle_errors, print_json, print_result
from strata.config import LOCAL_CONFIG_FILE, STRATA_DIR, set_value, shown, unset_value
from strata.workspace import Workspace

app = typer.Typer(
    help="Read and change .strata/config.toml.\n\nExample: strata config set cache.type copy",
    no_args_is_help=True,
)

LocalOpt = Annotated[
    bool, typer.Option("--local", help="Use the git-ignored .strata/config.local.toml.")
]


def warn_moved(keys: list[str]) -> None:
    """Say which credentials went to the git-ignored local file instead of the committed one."""
    for key in keys:
        err_console.print(
            f"warning: {key} holds a credential: kept in {STRATA_DIR}/{LOCAL_CONFIG_FILE} "
            "(git-ignored), not in the committed config",
            markup=False,
            soft_wrap=True,
        )


@app.command("get")
@handle_errors
def get(key: str, json_out: JsonOpt = False) -> None:
    """Print one value (credentials as ***). Example: strata config get cache.type"""
    value = shown(key, Workspace().config.get(key))
    print_result({"key": key, "value": value}, value, json_out=json_out)


@app.command("set")
@handle_errors
def set_(key: str, value: str, local: LocalOpt = False) -> None:
    """Set one value; credentials always go to the local file.

    Example: strata config set cache.type hardlink,copy
    """
    ws = Workspace()
    warn_moved(set_value(ws.root, key, value, scope="local" if local else "project"))


@app.command("unset")
@handle_errors
def unset(key: str, local: LocalOpt = False) -> None:
    """Remove one value. Example: strata config unset cache.dir"""
    ws = Workspace()
    unset_value(ws.root, key, scope="local" if local else "project")


@app.command("list")
@handle_errors
def list_(json_out: JsonOpt = False) -> None:
    """Every value and where it comes from (credentials as ***).

    Example: strata config list --json
    """
    config = Workspace().config
    rows = [
        {"key": k, "value": shown(k, v), "source": config.sources.get(k, "")}
        for k, v in sorted(config.values.items())
    ]
    if json_out:
        print_json(rows)
        return
    for row in rows:
        console.print(f"{escape(row['key'])} = {escape(row['value'])}  [dim]({row['source']})[/]")
