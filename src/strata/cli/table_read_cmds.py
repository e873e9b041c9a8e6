"""``strata table history|show|export|stats|diff``: reading versions, their rows and changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from strata.cli.output import JsonOpt, console, handle_errors, human_size, print_json, print_result
from strata.cli.table_options import ColumnsOpt, NameArg, RefArg, WhereOpt, split_names
from strata.workspace import Workspace

if TYPE_CHECKING:
    from strata.tables import Commit
    from strata.tables.diff import TableDiff
    from strata.tables.stats import TableStats


def register(app: typer.Typer) -> None:
    for command in (history, show, export, stats, diff):
        app.command()(handle_errors(command))


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
    print_result(
        [{**c.to_dict(), "pinned": c.version in pinned} for c in commits],
        (_commit_line(c, c.version in pinned) for c in commits),
        json_out=json_out,
    )


def _commit_line(c: Commit, pinned: bool) -> str:
    parts = [
        f"{c.version:>5}",
        c.timestamp.strftime("%Y-%m-%d %H:%M:%S"),
        f"{c.operation:<10}",
        f"{c.row_count if c.row_count is not None else '?':>10} rows",
        c.user or "-",
    ]
    if c.run_id:
        parts.append(f"run:{c.run_id}")
    if pinned:
        parts.append("[pinned]")
    if c.message:
        parts.append(c.message)
    return "  ".join(parts)


def _rows_for(ref: str, columns: str | None, where: str | None, limit: int | None) -> Any:
    with Workspace() as ws:
        table, version = ws.tables.version_of(ref)
        return table.at(version).to_arrow(columns=split_names(columns), where=where, limit=limit)


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


def stats(ref: RefArg, json_out: JsonOpt = False) -> None:
    """Schema, counts and per-column stats from metadata (no data scan).

    Example: strata table stats table:deliveries@47 --json
    """
    with Workspace() as ws:
        table, version = ws.tables.version_of(ref)
        found = table.stats(version)
    print_result(found, _stats_lines(found), json_out=json_out)


def _stats_lines(found: TableStats) -> Iterator[str]:
    yield (
        f"table:{found.table}@{found.version}: {found.row_count} rows, {found.file_count} files, "
        f"{human_size(found.size_bytes)}"
    )
    for field in found.schema:
        column = found.columns.get(field.name)
        nulls = "?" if column is None or column.null_count is None else column.null_count
        low = None if column is None else column.min
        high = None if column is None else column.max
        yield f"  {field.name:<20} {field.type:<16} nulls {nulls}  min {low}  max {high}"


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
        found = ws.tables.diff(old, new, key=split_names(key) or [])
    print_result(found, _diff_lines(found), json_out=json_out)


def _diff_lines(found: TableDiff) -> Iterator[str]:
    yield f"table:{found.table}@{found.old_version} → @{found.new_version}"
    for column in found.columns_added:
        yield f"  + column {column['name']} {column['type']}"
    for column in found.columns_removed:
        yield f"  - column {column['name']} {column['type']}"
    for column in found.columns_retyped:
        yield f"  ~ column {column['name']} {column['old']} → {column['new']}"
    yield f"  rows {found.row_count[0]} → {found.row_count[1]}"
    for name, change in found.column_stats.items():
        yield f"  stats {name}: {change['old']} → {change['new']}"
    yield f"  files +{len(found.files_added)} -{len(found.files_removed)}"
    if found.rows is not None:
        changes = found.rows
        yield (
            f"  rows by {','.join(changes.key)}: "
            f"+{changes.added} -{changes.removed} ~{changes.changed}"
        )
        for changed, count in changes.changed_by_column.items():
            yield f"    {changed}: {count} changed"
