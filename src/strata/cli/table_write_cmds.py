"""``strata table append|overwrite|merge|delete|update|restore``: each write a new version."""

from __future__ import annotations

from typing import Annotated

import typer

from strata.cli.output import JsonOpt, handle_errors
from strata.cli.table_options import (
    DataFileArg,
    MergeSchemaOpt,
    MessageOpt,
    NameArg,
    WhereOpt,
    print_commit,
    split_names,
)
from strata.errors import UserInputError
from strata.workspace import Workspace


def register(app: typer.Typer) -> None:
    for command in (append, overwrite, merge, delete, update, restore):
        app.command()(handle_errors(command))


NO_MATCH = "no rows matched"

AllowDuplicateOpt = Annotated[
    bool,
    typer.Option(
        "--allow-duplicate",
        help="Write even if the latest commit is this same file, written by you (a rerun).",
    ),
]


def append(
    name: NameArg,
    file: DataFileArg,
    merge_schema: MergeSchemaOpt = False,
    message: MessageOpt = None,
    allow_duplicate: AllowDuplicateOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Append rows as a new version. Example: strata table append deliveries oct.csv -m october

    Running it again right after it committed (after an interrupt) appends nothing twice.
    """
    with Workspace() as ws:
        result = ws.table(name).append(
            file, merge_schema=merge_schema, message=message, allow_duplicate=allow_duplicate
        )
    print_commit(result, json_out, rerun_of=file)


def overwrite(
    name: NameArg,
    file: DataFileArg,
    merge_schema: MergeSchemaOpt = False,
    overwrite_schema: Annotated[
        bool, typer.Option("--overwrite-schema", help="Replace the schema with the data's.")
    ] = False,
    message: MessageOpt = None,
    allow_duplicate: AllowDuplicateOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Replace all rows as a new version (old versions stay readable).

    Example: strata table overwrite deliveries fixed.parquet --overwrite-schema
    """
    with Workspace() as ws:
        result = ws.table(name).overwrite(
            file,
            merge_schema=merge_schema,
            overwrite_schema=overwrite_schema,
            message=message,
            allow_duplicate=allow_duplicate,
        )
    print_commit(result, json_out, rerun_of=file)


def merge(
    name: NameArg,
    file: DataFileArg,
    on: Annotated[str, typer.Option("--on", help="Key columns, comma-separated.")],
    update: Annotated[
        list[str] | None, typer.Option("--update", help="Update only this column (repeatable).")
    ] = None,
    delete_when: Annotated[
        str | None,
        typer.Option("--delete-when", help="Delete matched rows where this holds (source.COL)."),
    ] = None,
    message: MessageOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Upsert in one commit: matched rows updated, the others inserted.

    Example: strata table merge deliveries fixes.csv --on delivery_id
    """
    with Workspace() as ws:
        result = ws.table(name).merge(
            file, on=split_names(on) or [], update=update, delete_when=delete_when, message=message
        )
    print_commit(result, json_out)


def delete(
    name: NameArg,
    where: Annotated[str, typer.Option("--where", help="SQL predicate of the rows to delete.")],
    message: MessageOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Delete rows. Example: strata table delete deliveries --where "weather = 'test'\""""
    with Workspace() as ws:
        result = ws.table(name).delete(where, message=message)
    print_commit(result, json_out, nothing_because=NO_MATCH)


def update(
    name: NameArg,
    set_: Annotated[list[str], typer.Option("--set", help="COL=SQL-EXPRESSION (repeatable).")],
    where: WhereOpt = None,
    message: MessageOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Set columns on matching rows.

    Example: strata table update deliveries --set delay_min=0 --where "weather = 'sun'"
    """
    assignments: dict[str, str] = {}
    for item in set_:
        column, eq, expression = item.partition("=")
        if not eq or not column.strip() or not expression.strip():
            raise UserInputError(f"bad --set {item!r}", hint="write --set COL=EXPRESSION")
        assignments[column.strip()] = expression.strip()
    with Workspace() as ws:
        result = ws.table(name).update(assignments, where=where, message=message)
    print_commit(result, json_out, nothing_because=NO_MATCH)


def restore(
    name: NameArg,
    version: Annotated[str, typer.Argument(help="Version number or ISO timestamp.")],
    message: MessageOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Roll the data back as a new commit pointing at the old files (no copy).

    Example: strata table restore deliveries 47
    """
    with Workspace() as ws:
        table, target = ws.tables.version_of(f"table:{name}@{version}")
        result = table.restore(target, message=message)
    print_commit(result, json_out)
