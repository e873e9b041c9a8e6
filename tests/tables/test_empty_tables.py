"""Empty tables on both formats: made with a schema and no rows, emptied by a delete, and an
Iceberg table registered before its first snapshot. Their stats are of 0 rows, and history,
releases and incident reports take them like any other table."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyiceberg.catalog.sql import SqlCatalog

from factories import Cli, WorkspaceFactory
from strata import Workspace
from strata.tables.records import Format
from tabledata import deliveries

SCHEMA = "id:int64,at:timestamp"


def _empty(make_workspace: WorkspaceFactory, fmt: Format) -> Workspace:
    ws = make_workspace(git=False)
    ws.tables.create("events", schema=SCHEMA, format=fmt)
    return ws


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_an_empty_table_has_stats_of_no_rows(make_workspace: WorkspaceFactory, fmt: Format) -> None:
    table = _empty(make_workspace, fmt).table("events")
    stats = table.stats()
    assert (stats.row_count, stats.file_count, stats.size_bytes) == (0, 0, 0)
    assert [f.name for f in stats.schema] == ["id", "at"]
    assert table.history()[0].row_count == 0
    assert table.files(table.latest_version()) == {}
    assert not table.optimize().committed


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_history_release_and_incident_report_take_an_empty_table(
    make_workspace: WorkspaceFactory, cli: Cli, fmt: Format
) -> None:
    ws = _empty(make_workspace, fmt)
    version = ws.table("events").latest_version()
    history = cli("table", "history", "events", "--json", cwd=ws.root)
    assert history.code == 0, history.stderr
    assert [c["row_count"] for c in history.json()] == [0]  # type: ignore[union-attr]
    release = cli("release", "create", "R", cwd=ws.root)
    assert release.code == 0, release.stderr
    assert [p.version for p in ws.tables.pins("events")] == [version]
    report = cli("incident", "report", "--since", "1h", cwd=ws.root)
    assert report.code == 0, report.stderr
    assert f"table:events@{version}" in report.stdout


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_a_table_emptied_by_a_delete_has_stats_of_no_rows(
    make_workspace: WorkspaceFactory, fmt: Format
) -> None:
    ws = make_workspace(git=False)
    ws.tables.create("events", deliveries(range(3)), format=fmt)
    table = ws.table("events")
    deleted = table.delete("id >= 0")
    assert deleted.committed
    assert table.stats(deleted.version).row_count == 0
    assert table.history()[0].row_count == 0


def test_an_iceberg_table_without_a_snapshot_is_version_0_and_empty(
    make_workspace: WorkspaceFactory, cli: Cli, tmp_path: Path
) -> None:
    foreign = SqlCatalog("other", uri=f"sqlite:///{tmp_path / 'other.db'}")
    foreign.create_namespace("lake")
    where = tmp_path / "lake" / "events"
    foreign.create_table(("lake", "events"), deliveries(range(1)).schema, location=str(where))
    ws = make_workspace(git=False)
    table = ws.tables.register("events", str(where))
    assert table.latest_version() == 0 and table.history() == []
    stats = table.stats()
    assert (stats.version, stats.row_count, stats.file_count) == (0, 0, 0)
    assert table.at(0).to_arrow(columns=["id"]).num_rows == 0
    assert table.files(0) == {}
    for args in (
        ("table", "history", "events"),
        ("release", "create", "R"),
        ("incident", "report", "--since", "1h"),
    ):
        done = cli(*args, cwd=ws.root)
        assert done.code == 0, (args, done.stderr)
    table.append(deliveries(range(2)))
    assert table.latest_version() == 1 and table.stats().row_count == 2
