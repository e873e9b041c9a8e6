"""``strata table pin|unpin|pins|optimize|vacuum|checkpoint``: which versions must stay
readable, and the upkeep (compaction, file clean-up, checkpoints) that respects them."""

from __future__ import annotations

from typing import Annotated

import typer

from strata.cli.output import JsonOpt, handle_errors, print_records, print_result, say
from strata.cli.table_options import NameArg, RefArg, hours, print_commit
from strata.workspace import Workspace


def register(app: typer.Typer) -> None:
    for command in (pin, unpin, pins, optimize, vacuum, checkpoint):
        app.command()(handle_errors(command))


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
    print_result(found, f"pinned table:{found.table}@{found.version} for {by}", json_out=json_out)


def unpin(
    ref: RefArg,
    by: Annotated[str, typer.Option("--by", help="Whose pin to remove.")] = "manual",
    all_: Annotated[bool, typer.Option("--all", help="Remove every pin of it.")] = False,
) -> None:
    """Let maintenance remove a version again. Example: strata table unpin table:deliveries@47"""
    with Workspace() as ws:
        table, version = ws.tables.version_of(ref)
        removed = ws.tables.unpin(table.name, version, by=None if all_ else by)
    say(f"removed {removed} pin(s) of table:{table.name}@{version}")


def pins(
    name: Annotated[str | None, typer.Argument(help="Table name (default: all).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Pinned versions and who pins them. Example: strata table pins deliveries"""
    with Workspace() as ws:
        found = ws.tables.pins(name)
    print_records(found, lambda p: f"table:{p.table}@{p.version}\t{p.pinned_by}", json_out=json_out)


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
    print_commit(result, json_out)


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
        result = ws.table(name).vacuum(retain_hours=hours(retain), dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    kept = f"; kept pinned versions {list(result.kept_for_pins)}" if result.kept_for_pins else ""
    listed = [f"  {path}" for path in result.removed] if dry_run else []
    print_result(result, [f"{verb} {len(result.removed)} files{kept}", *listed], json_out=json_out)


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
            clean_logs=clean_logs, log_retain_hours=hours(log_retain)
        )
    say(f"checkpointed table:{name}@{version}")
