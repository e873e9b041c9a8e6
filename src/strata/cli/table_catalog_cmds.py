"""``strata table create|register|list|drop``: the catalog of tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from strata.cli.output import JsonOpt, handle_errors, print_records, print_result, say
from strata.cli.table_options import MessageOpt, NameArg
from strata.errors import UserInputError
from strata.workspace import Workspace


def register(app: typer.Typer) -> None:
    app.command()(handle_errors(create))
    app.command("register")(handle_errors(register_table))
    app.command("list")(handle_errors(list_))
    app.command()(handle_errors(drop))


def create(
    name: NameArg,
    from_: Annotated[
        Path | None, typer.Option("--from", help="Parquet, CSV or JSON Lines file.")
    ] = None,
    schema: Annotated[
        str | None, typer.Option("--schema", help="Columns, e.g. 'id:int64,name:string'.")
    ] = None,
    format_: Annotated[str, typer.Option("--format", help="delta or iceberg.")] = "delta",
    partition_by: Annotated[
        list[str] | None, typer.Option("--partition-by", help="Partition column (repeatable).")
    ] = None,
    location: Annotated[
        str | None, typer.Option("--location", help="Folder or URI (default: tables.root/NAME).")
    ] = None,
    message: MessageOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a table from a file, or empty from a schema.

    Example: strata table create deliveries --from deliveries.parquet --partition-by day
    """
    from strata.tables.records import FORMATS

    if format_ not in FORMATS:
        raise UserInputError(f"unknown table format {format_!r}", hint="use delta or iceberg")
    with Workspace() as ws:
        table = ws.tables.create(
            name,
            from_,
            schema=schema,
            format="iceberg" if format_ == "iceberg" else "delta",
            partition_by=partition_by or [],
            location=location,
            message=message,
        )
        version = table.latest_version()
        print_result(
            {**table.info.to_dict(), "version": version},
            f"created table:{name}@{version} ({table.format}, {table.location})",
            json_out=json_out,
        )


def register_table(
    name: NameArg,
    location: Annotated[str, typer.Argument(help="Folder or URI of the existing table.")],
    json_out: JsonOpt = False,
) -> None:
    """Add an existing Delta or Iceberg table to the catalog.

    Example: strata table register events /data/lake/events
    """
    with Workspace() as ws:
        table = ws.tables.register(name, location)
        print_result(
            table.info,
            f"registered {table.format} table {name} at {table.location}",
            json_out=json_out,
        )


def list_(json_out: JsonOpt = False) -> None:
    """Every table in the catalog. Example: strata table list --json"""
    with Workspace() as ws:
        tables = ws.tables.list()
        print_records(tables, lambda t: f"{t.name}\t{t.format}\t{t.location}", json_out=json_out)


def drop(
    name: NameArg,
    force: Annotated[bool, typer.Option("--force", help="Really drop it.")] = False,
) -> None:
    """Drop a table and, if Strata created it, its files; refused while pinned.

    Example: strata table drop scratch --force
    """
    with Workspace() as ws:
        info = ws.tables.drop(name, force=force)
    say(f"dropped table {info.name}")
