"""Pinned versions survive maintenance: vacuum with zero retention, optimize, checkpoints and
log clean-up; and a pinned table cannot be dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from factories import Cli, assert_one_line_error
from strata import Workspace
from strata.errors import TableError, TableVersionNotFoundError
from tabledata import deliveries, sorted_rows


def _log_versions(table_location: str) -> list[int]:
    return sorted(int(p.name[:20]) for p in (Path(table_location) / "_delta_log").glob("*.json"))


def test_a_pinned_version_survives_50_versions_optimize_vacuum_and_checkpoint(
    table_ws: Workspace,
) -> None:
    table = table_ws.table("deliveries")
    table.append(deliveries(range(10, 12)))
    pinned_rows = sorted_rows(table.at(1).to_arrow())
    table_ws.tables.pin("deliveries", 1, by="model:delay-classifier@3")
    for batch in range(50):
        if batch % 10 == 9:
            table.delete(f"id = {batch}")
        else:
            table.append(deliveries(range(100 + batch, 101 + batch)))
    table.optimize()
    vacuumed = table.vacuum(retain_hours=0)
    assert vacuumed.removed, "vacuum with zero retention removes unpinned old files"
    assert vacuumed.kept_for_pins == (1,)
    table.checkpoint(clean_logs=True, log_retain_hours=0)
    assert _log_versions(table.location)[0] == 1, "log entries before the pin are cleaned up"
    assert sorted_rows(table_ws.table("deliveries").at(1).to_arrow()) == pinned_rows
    with pytest.raises(TableVersionNotFoundError):
        table.at(0).to_arrow()  # unpinned and cleaned up: really gone


def test_without_a_pin_vacuum_makes_old_versions_unreadable(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    table.overwrite(deliveries(range(50, 52)))
    table.vacuum(retain_hours=0)
    with pytest.raises(TableError):
        table.at(0).to_arrow()


def test_vacuum_dry_run_lists_and_keeps(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    table.overwrite(deliveries(range(50, 52)))
    planned = table.vacuum(retain_hours=0, dry_run=True)
    assert len(planned.removed) == 1
    assert all((Path(table.location) / f).exists() for f in planned.removed)
    assert table.at(0).to_arrow().num_rows == 10


def test_retention_keeps_recent_versions(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    table.overwrite(deliveries(range(50, 52)))
    assert table.vacuum(retain_hours=168).removed == ()
    assert table.at(0).to_arrow().num_rows == 10


def test_unpinned_versions_can_be_vacuumed(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    table_ws.tables.pin("deliveries", 0)
    table.overwrite(deliveries(range(50, 52)))
    assert table.vacuum(retain_hours=0).removed == ()
    table_ws.tables.unpin("deliveries", 0)
    assert len(table.vacuum(retain_hours=0).removed) == 1


def test_pins_block_drop_and_list_who_needs_them(table_ws: Workspace) -> None:
    table_ws.tables.pin("deliveries", 0, by="model:delay-classifier@3")
    table_ws.tables.pin("deliveries", 0, by="release:2024.10.15")
    with pytest.raises(TableError, match=r"pinned by model:delay-classifier@3 \(version 0\)"):
        table_ws.tables.drop("deliveries", force=True)
    assert [p.pinned_by for p in table_ws.tables.pins("deliveries")] == [
        "model:delay-classifier@3",
        "release:2024.10.15",
    ]
    assert table_ws.tables.unpin("deliveries", 0, by=None) == 2
    table_ws.tables.drop("deliveries", force=True)


def test_pinning_a_missing_version_is_refused(table_ws: Workspace) -> None:
    with pytest.raises(TableVersionNotFoundError, match="no version 5"):
        table_ws.tables.pin("deliveries", 5)
    assert table_ws.tables.pins() == []


def test_reading_a_vacuumed_version_names_it_and_the_readable_ones(
    table_ws: Workspace, cli: Cli
) -> None:
    table = table_ws.table("deliveries")
    table_ws.tables.pin("deliveries", 0)
    table.overwrite(deliveries(range(20, 22)))  # 1: vacuumed below
    table.overwrite(deliveries(range(30, 32)))  # 2
    table.append(deliveries(range(40, 41)))  # 3
    table.vacuum(retain_hours=0)
    out = cli("table", "show", "table:deliveries@1", cwd=table_ws.root)
    assert_one_line_error(
        out,
        TableVersionNotFoundError.exit_code,
        "version 1 of table deliveries is no longer readable: it was vacuumed",
        f"versions still readable: 0, 2..{table.latest_version()}",  # vacuum commits too
    )
    assert table.at(0).to_arrow().num_rows == 10
