"""``strata table partition|tag|branch``: what Iceberg tables can do beyond the shared ones."""

from __future__ import annotations

from typing import Annotated

import typer

from strata.cli.output import JsonOpt, handle_errors, say
from strata.cli.table_options import NameArg, RefArg, print_commit
from strata.errors import UserInputError
from strata.workspace import Workspace


def register(app: typer.Typer) -> None:
    for command in (partition, tag, branch):
        app.command()(handle_errors(command))


def partition(
    name: NameArg,
    add: Annotated[str | None, typer.Option("--add", help="Column to partition by.")] = None,
    transform: Annotated[
        str, typer.Option("--transform", help="identity, year, month, day, hour, bucket[N].")
    ] = "identity",
    remove: Annotated[str | None, typer.Option("--remove", help="Partition field to drop.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Evolve the partitioning without rewriting data (Iceberg).

    Example: strata table partition events --add created_at --transform month
    """
    if (add is None) == (remove is None):
        raise UserInputError("give --add FIELD or --remove FIELD")
    with Workspace() as ws:
        result = ws.table(name).partition(add=add, transform=transform, remove=remove)
    print_commit(result, json_out)


def tag(
    ref: RefArg,
    tag_name: Annotated[str, typer.Argument(help="Tag name, then usable as table:NAME@TAG.")],
) -> None:
    """Name a version (Iceberg). Example: strata table tag table:events@12 q3-audit"""
    with Workspace() as ws:
        table, version = ws.tables.version_of(ref)
        table.tag(version, tag_name)
    say(f"tagged table:{table.name}@{version} as {tag_name}")


def branch(
    ref: RefArg,
    branch_name: Annotated[str, typer.Argument(help="Branch name.")],
) -> None:
    """Start a branch at a version (Iceberg). Example: strata table branch table:events@12 fix"""
    with Workspace() as ws:
        table, version = ws.tables.version_of(ref)
        table.branch(branch_name, version)
    say(f"branch {branch_name} of table {table.name} at {version}")
