"""``strata table ...``: versioned tables on Delta Lake or Iceberg.

Thin over ``Workspace.tables``; pyarrow, deltalake and pyiceberg are imported only inside the
commands (through the tables package), so ``strata --help`` stays fast.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from strata.cli.output import console, handle_errors, human_size, print_json
from strata.errors import UserInputError
from strata.workspace import Workspace

if TYPE_CHECKING:
    from strata.tables import WriteResult

app = typer.Typer(
    help="Versioned tables on open formats (Delta Lake by default, or Iceberg).\n\n"
    "Example: strata table create deliveries --from deliveries.parquet",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
NameArg = Annotated[str, typer.Argument(help="Table name.")]
RefArg = Annotated[str, typer.Argument(help="table:NAME@VERSION (or @TIMESTAMP, @TAG).")]
MessageOpt = Annotated[str | None, typer.Option("--message", "-m", help="Commit message.")]
MergeSchemaOpt = Annotated[
    bool, typer.Option("--merge-schema", help="Add the data's new columns to the table.")
]
ColumnsOpt = Annotated[
    str | None, typer.Option("--columns", help="Comma-separated columns to read.")
]
WhereOpt = Annotated[str | None, typer.Option("--where", help="SQL predicate on rows.")]
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
_UNIT_HOURS = {"s": 1 / 3600, "m": 1 / 60, "h": 1.0, "": 1.0, "d": 24.0, "w": 168.0}


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def _hours(text: str) -> float:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise UserInputError(f"bad duration {text!r}", hint="write e.g. 168h, 7d, 30m or 0h")
    return float(match[1]) * _UNIT_HOURS[match[2]]


def _committed(result: WriteResult, json_out: bool) -> None:
    if json_out:
        print_json(result.to_dict())
    elif not result.committed:
        text = f"nothing to do: {result.ref} stays the latest version (no commit)"
        console.print(text, markup=False)
    else:
        console.print(f"{result.ref} ({result.operation.lower()})", markup=False)


# -- the catalog ------------------------------------------------------------------------------
@app.command()
@handle_errors
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
        if json_out:
            print_json({**table.info.to_dict(), "version": version})
        else:
            console.print(
                f"created table:{name}@{version} ({table.format}, {table.location})", markup=False
            )


@app.command()
@handle_errors
def register(
    name: NameArg,
    location: Annotated[str, typer.Argument(help="Folder or URI of the existing table.")],
    json_out: JsonOpt = False,
) -> None:
    """Add an existing Delta or Iceberg table to the catalog.

    Example: strata table register events /data/lake/events
    """
    with Workspace() as ws:
        table = ws.tables.register(name, location)
        if json_out:
            print_json(table.info.to_dict())
        else:
            console.print(f"registered {table.format} table {name} at {table.location}")


@app.command("list")
@handle_errors
def list_(json_out: JsonOpt = False) -> None:
    """Every table in the catalog. Example: strata table list --json"""
    with Workspace() as ws:
        tables = ws.tables.list()
        if json_out:
            print_json([t.to_dict() for t in tables])
            return
        for t in tables:
            console.print(f"{t.name}\t{t.format}\t{t.location}", markup=False)


@app.command()
@handle_errors
def drop(
    name: NameArg,
    force: Annotated[bool, typer.Option("--force", help="Really drop it.")] = False,
) -> None:
    """Drop a table and, if Strata created it, its files; refused while pinned.

    Example: strata table drop scratch --force
    """
    with Workspace() as ws:
        info = ws.tables.drop(name, force=force)
    console.print(f"dropped table {info.name}", markup=False)


# -- writes -----------------------------------------------------------------------------------
@app.command()
@handle_errors
def append(
    name: NameArg,
    file: Annotated[Path, typer.Argument(help="Parquet, CSV or JSON Lines file.")],
    merge_schema: MergeSchemaOpt = False,
    message: MessageOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Append rows as a new version. Example: strata table append deliveries oct.csv -m october"""
    with Workspace() as ws:
        result = ws.table(name).append(file, merge_schema=merge_schema, message=message)
    _committed(result, json_out)


@app.command()
@handle_errors
def overwrite(
    name: NameArg,
    file: Annotated[Path, typer.Argument(help="Parquet, CSV or JSON Lines file.")],
    merge_schema: MergeSchemaOpt = False,
    overwrite_schema: Annotated[
        bool, typer.Option("--overwrite-schema", help="Replace the schema with the data's.")
    ] = False,
    message: MessageOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Replace all rows as a new version (old versions stay readable).

    Example: strata table overwrite deliveries fixed.parquet --overwrite-schema
    """
    with Workspace() as ws:
        result = ws.table(name).overwrite(
            file, merge_schema=merge_schema, overwrite_schema=overwrite_schema, message=message
        )
    _committed(result, json_out)


@app.command()
@handle_errors
def merge(
    name: NameArg,
    file: Annotated[Path, typer.Argument(help="Parquet, CSV or JSON Lines file.")],
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
            file, on=_split(on) or [], update=update, delete_when=delete_when, message=message
        )
    _committed(result, json_out)


@app.command()
@handle_errors
def delete(
    name: NameArg,
    where: Annotated[str, typer.Option("--where", help="SQL predicate of the rows to delete.")],
    message: MessageOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Delete rows. Example: strata table delete deliveries --where "weather = 'test'\""""
    with Workspace() as ws:
        result = ws.table(name).delete(where, message=message)
    _committed(result, json_out)


@app.command()
@handle_errors
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
    _committed(result, json_out)


@app.command()
@handle_errors
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
    _committed(result, json_out)


# -- reads ------------------------------------------------------------------------------------
@app.command()
@handle_errors
def history(
    name: NameArg,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Newest N only.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Every version: when, what operation, message, user, run, rows after.

    Example: strata table history deliveries --limit 10
    """
    with Workspace() as ws:
        commits = ws.table(name).history(limit)
        pinned = {p.version for p in ws.tables.pins(name)}
    if json_out:
        print_json([{**c.to_dict(), "pinned": c.version in pinned} for c in commits])
        return
    for c in commits:
        parts = [
            f"{c.version:>5}",
            c.timestamp.strftime("%Y-%m-%d %H:%M:%S"),
            f"{c.operation:<10}",
            f"{c.row_count if c.row_count is not None else '?':>10} rows",
            c.user or "-",
        ]
        if c.run_id:
            parts.append(f"run:{c.run_id}")
        if c.version in pinned:
            parts.append("[pinned]")
        if c.message:
            parts.append(c.message)
        console.print("  ".join(parts), markup=False)


def _rows_for(ref: str, columns: str | None, where: str | None, limit: int | None) -> Any:
    with Workspace() as ws:
        table, version = ws.tables.version_of(ref)
        return table.at(version).to_arrow(columns=_split(columns), where=where, limit=limit)


@app.command()
@handle_errors
def show(
    ref: RefArg,
    columns: ColumnsOpt = None,
    where: WhereOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Rows to show.")] = 20,
    json_out: JsonOpt = False,
) -> None:
    """Rows of one version. Example: strata table show table:deliveries@47 --limit 5"""
    from strata.tables.stats import json_value

    data = _rows_for(ref, columns, where, limit)
    rows = [{k: json_value(v) for k, v in row.items()} for row in data.to_pylist()]
    if json_out:
        print_json(rows)
        return
    from rich.table import Table as RichTable

    grid = RichTable(*data.column_names)
    for row in rows:
        grid.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(grid)


@app.command()
@handle_errors
def export(
    ref: RefArg,
    out: Annotated[Path, typer.Argument(help="Output .parquet, .csv or .jsonl file.")],
    columns: ColumnsOpt = None,
    where: WhereOpt = None,
) -> None:
    """Write one version's rows to a file (.parquet, .csv, .jsonl).

    Example: strata table export table:deliveries@47 deliveries-47.parquet
    """
    from strata.tables.outputs import write_file

    data = _rows_for(ref, columns, where, None)
    write_file(data, out)
    console.print(f"wrote {data.num_rows} rows to {out}", markup=False)


@app.command()
@handle_errors
def stats(ref: RefArg, json_out: JsonOpt = False) -> None:
    """Schema, counts and per-column stats from metadata (no data scan).

    Example: strata table stats table:deliveries@47 --json
    """
    with Workspace() as ws:
        table, version = ws.tables.version_of(ref)
        found = table.stats(version)
    if json_out:
        print_json(found.to_dict())
        return
    console.print(
        f"table:{found.table}@{found.version}: {found.row_count} rows, {found.file_count} files, "
        f"{human_size(found.size_bytes)}",
        markup=False,
    )
    for field in found.schema:
        column = found.columns.get(field.name)
        nulls = "?" if column is None or column.null_count is None else column.null_count
        low = None if column is None else column.min
        high = None if column is None else column.max
        console.print(
            f"  {field.name:<20} {field.type:<16} nulls {nulls}  min {low}  max {high}",
            markup=False,
        )


@app.command()
@handle_errors
def diff(
    old: RefArg,
    new: RefArg,
    key: Annotated[
        str | None, typer.Option("--key", help="Key columns for a row-level diff.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """What changed between two versions; with --key, which rows.

    Example: strata table diff table:deliveries@40 table:deliveries@47 --key delivery_id
    """
    with Workspace() as ws:
        found = ws.tables.diff(old, new, key=_split(key) or [])
    if json_out:
        print_json(found.to_dict())
        return
    say = console.print
    say(f"table:{found.table}@{found.old_version} → @{found.new_version}", markup=False)
    for column in found.columns_added:
        say(f"  + column {column['name']} {column['type']}", markup=False)
    for column in found.columns_removed:
        say(f"  - column {column['name']} {column['type']}", markup=False)
    for column in found.columns_retyped:
        say(f"  ~ column {column['name']} {column['old']} → {column['new']}", markup=False)
    say(f"  rows {found.row_count[0]} → {found.row_count[1]}", markup=False)
    for name, change in found.column_stats.items():
        say(f"  stats {name}: {change['old']} → {change['new']}", markup=False)
    say(f"  files +{len(found.files_added)} -{len(found.files_removed)}", markup=False)
    if found.rows is not None:
        changes = found.rows
        say(
            f"  rows by {','.join(changes.key)}: "
            f"+{changes.added} -{changes.removed} ~{changes.changed}",
            markup=False,
        )
        for changed, count in changes.changed_by_column.items():
            say(f"    {changed}: {count} changed", markup=False)


# -- pins and maintenance ---------------------------------------------------------------------
@app.command()
@handle_errors
def pin(
    ref: RefArg,
    by: Annotated[str, typer.Option("--by", help="Who needs it, e.g. model:clf@3.")] = "manual",
    json_out: JsonOpt = False,
) -> None:
    """Keep a version readable through vacuum, optimize and log clean-up.

    Example: strata table pin table:deliveries@47 --by model:delay-classifier@3
    """
    with Workspace() as ws:
        table, version = ws.tables.version_of(ref)
        found = ws.tables.pin(table.name, version, by=by)
    if json_out:
        print_json(found.to_dict())
    else:
        console.print(f"pinned table:{found.table}@{found.version} for {by}", markup=False)


@app.command()
@handle_errors
def unpin(
    ref: RefArg,
    by: Annotated[str, typer.Option("--by", help="Whose pin to remove.")] = "manual",
    all_: Annotated[bool, typer.Option("--all", help="Remove every pin of it.")] = False,
) -> None:
    """Let maintenance remove a version again. Example: strata table unpin table:deliveries@47"""
    with Workspace() as ws:
        table, version = ws.tables.version_of(ref)
        removed = ws.tables.unpin(table.name, version, by=None if all_ else by)
    console.print(f"removed {removed} pin(s) of table:{table.name}@{version}", markup=False)


@app.command()
@handle_errors
def pins(
    name: Annotated[str | None, typer.Argument(help="Table name (default: all).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Pinned versions and who pins them. Example: strata table pins deliveries"""
    with Workspace() as ws:
        found = ws.tables.pins(name)
    if json_out:
        print_json([p.to_dict() for p in found])
        return
    for p in found:
        console.print(f"table:{p.table}@{p.version}\t{p.pinned_by}", markup=False)


@app.command()
@handle_errors
def optimize(
    name: NameArg,
    zorder: Annotated[
        list[str] | None, typer.Option("--zorder", help="Z-order by this column (repeatable).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Compact small files (a new version, same rows). Example: strata table optimize deliveries"""
    with Workspace() as ws:
        result = ws.table(name).optimize(zorder=zorder or [])
    _committed(result, json_out)


@app.command()
@handle_errors
def vacuum(
    name: NameArg,
    retain: Annotated[str, typer.Option("--retain", help="Keep files newer than this.")] = "168h",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list the files.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Delete data files no version inside the retention and no pinned version needs.

    Example: strata table vacuum deliveries --retain 24h --dry-run
    """
    with Workspace() as ws:
        result = ws.table(name).vacuum(retain_hours=_hours(retain), dry_run=dry_run)
    if json_out:
        print_json(result.to_dict())
        return
    verb = "would delete" if dry_run else "deleted"
    kept = f"; kept pinned versions {list(result.kept_for_pins)}" if result.kept_for_pins else ""
    console.print(f"{verb} {len(result.removed)} files{kept}", markup=False)
    for path in result.removed if dry_run else ():
        console.print(f"  {path}", markup=False)


@app.command()
@handle_errors
def checkpoint(
    name: NameArg,
    clean_logs: Annotated[
        bool, typer.Option("--clean-logs", help="Drop expired log entries no pin needs.")
    ] = False,
    log_retain: Annotated[
        str, typer.Option("--log-retain", help="Keep log entries newer than this.")
    ] = "720h",
) -> None:
    """Write a checkpoint of the latest version. Example: strata table checkpoint deliveries"""
    with Workspace() as ws:
        version = ws.table(name).checkpoint(
            clean_logs=clean_logs, log_retain_hours=_hours(log_retain)
        )
    console.print(f"checkpointed table:{name}@{version}", markup=False)


# -- Iceberg extras ---------------------------------------------------------------------------
@app.command()
@handle_errors
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
    _committed(result, json_out)


@app.command()
@handle_errors
def tag(
    ref: RefArg,
    tag_name: Annotated[str, typer.Argument(help="Tag name, then usable as table:NAME@TAG.")],
) -> None:
    """Name a version (Iceberg). Example: strata table tag table:events@12 q3-audit"""
    with Workspace() as ws:
        table, version = ws.tables.version_of(ref)
        table.tag(version, tag_name)
    console.print(f"tagged table:{table.name}@{version} as {tag_name}", markup=False)


@app.command()
@handle_errors
def branch(
    ref: RefArg,
    branch_name: Annotated[str, typer.Argument(help="Branch name.")],
) -> None:
    """Start a branch at a version (Iceberg). Example: strata table branch table:events@12 fix"""
    with Workspace() as ws:
        table, version = ws.tables.version_of(ref)
        table.branch(branch_name, version)
    console.print(f"branch {branch_name} of table {table.name} at {version}", markup=False)
