"""Tables Strata writes are ordinary Delta and Iceberg tables (deltalake, polars and pyiceberg
open them, history and time travel included), and tables Strata did not write can be
registered and versioned from then on."""

from __future__ import annotations

from pathlib import Path

import deltalake
import polars as pl
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from factories import Cli, WorkspaceFactory
from strata import Workspace
from tabledata import deliveries, sorted_rows


def test_deltalake_and_polars_open_a_strata_delta_table(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    table.append(deliveries(range(10, 15)), message="five more")
    own = deltalake.DeltaTable(table.location)
    assert own.version() == 1
    assert own.history()[0]["strata.message"] == "five more"
    assert deltalake.DeltaTable(table.location, version=0).to_pyarrow_table().num_rows == 10
    assert pl.read_delta(table.location).height == 15
    assert pl.read_delta(table.location, version=0).height == 10


def test_commits_another_engine_makes_to_a_strata_delta_table_are_versions(
    table_ws: Workspace,
) -> None:
    """What Spark or Databricks writing the table's folder does: commits in its Delta log."""
    location = table_ws.table("deliveries").location
    deltalake.write_deltalake(
        location,
        deliveries(range(10, 13)),
        mode="append",
        commit_properties=deltalake.CommitProperties(custom_metadata={"userName": "spark-job"}),
    )
    deltalake.DeltaTable(location).delete("id < 2")
    history = table_ws.table("deliveries").history()
    assert [(c.version, c.operation) for c in history[:2]] == [(2, "DELETE"), (1, "WRITE")]
    assert (history[1].user, history[1].rows_written, history[1].row_count) == ("spark-job", 3, 13)
    assert history[0].row_count == 11
    assert table_ws.table("deliveries").at(1).to_arrow().num_rows == 13


def test_pyiceberg_opens_a_strata_iceberg_table(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(git=False)
    table = ws.tables.create("events", deliveries(range(10)), format="iceberg")
    first = table.latest_version()
    table.append(deliveries(range(10, 12)), message="two more")
    catalog = SqlCatalog("strata", uri=ws.db.url)
    own = catalog.load_table(("strata", "events"))
    assert own.scan().to_arrow().num_rows == 12
    old = next(s for s in own.snapshots() if s.sequence_number == first)
    assert own.scan(snapshot_id=old.snapshot_id).to_arrow().num_rows == 10
    current = own.current_snapshot()
    assert current is not None and current.summary is not None
    assert current.summary["strata.message"] == "two more"


def test_register_a_delta_table_and_version_it(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    where = tmp_path / "lake" / "raw"
    deltalake.write_deltalake(str(where), deliveries(range(3)))
    deltalake.write_deltalake(str(where), deliveries(range(3, 5)), mode="append")
    ws = make_workspace(git=False)
    table = ws.tables.register("raw", str(where))
    assert (table.format, table.info.origin) == ("delta", "registered")
    assert table.at(0).to_arrow().num_rows == 3
    version = table.append(deliveries(range(5, 6))).version
    assert table.at(version).to_arrow().num_rows == 6
    assert deltalake.DeltaTable(str(where)).version() == version
    ws.tables.pin("raw", 0)
    assert table.vacuum(retain_hours=0).kept_for_pins == (0,)


def test_registering_a_delta_table_leaves_its_configuration_alone(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    where = str(tmp_path / "lake" / "raw")
    deltalake.write_deltalake(
        where, deliveries(range(3)), configuration={"delta.appendOnly": "false"}
    )
    before = deltalake.DeltaTable(where)
    ws = make_workspace(git=False)
    ws.tables.register("raw", where)
    ws.tables.pin("raw", 0)
    after = deltalake.DeltaTable(where)
    assert after.version() == before.version(), "registering and pinning commit nothing"
    assert after.metadata().configuration == before.metadata().configuration


def test_a_pin_on_a_registered_table_outlives_its_own_log_clean_up_setting(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    where = str(tmp_path / "lake" / "raw")
    settings = {"delta.logRetentionDuration": "interval 0 seconds", "delta.checkpointInterval": "2"}
    deltalake.write_deltalake(where, deliveries(range(3)), configuration=settings)
    deltalake.write_deltalake(where, deliveries(range(3, 5)), mode="append")
    ws = make_workspace(git=False)
    table = ws.tables.register("raw", where)
    ws.tables.pin("raw", 1)
    for start in range(5, 10):
        table.append(deliveries(range(start, start + 1)))  # each may checkpoint
    assert sorted_rows(table.at(1).to_arrow()) == sorted_rows(deliveries(range(5)))


def test_register_an_iceberg_table(make_workspace: WorkspaceFactory, tmp_path: Path) -> None:
    foreign = SqlCatalog("other", uri=f"sqlite:///{tmp_path / 'other.db'}")
    foreign.create_namespace("lake")
    where = tmp_path / "lake" / "events"
    own = foreign.create_table(("lake", "events"), deliveries(range(4)).schema, location=str(where))
    own.append(deliveries(range(4)))
    ws = make_workspace(git=False)
    table = ws.tables.register("events", str(where))
    assert table.format == "iceberg"
    assert table.to_arrow().num_rows == 4
    table.append(deliveries(range(4, 6)))
    assert sorted_rows(table.to_arrow()) == sorted_rows(deliveries(range(6)))


def test_register_through_the_cli(
    make_workspace: WorkspaceFactory, cli: Cli, tmp_path: Path
) -> None:
    where = tmp_path / "lake" / "raw"
    deltalake.write_deltalake(str(where), deliveries(range(3)))
    ws = make_workspace(git=False)
    out = cli("table", "register", "raw", str(where), cwd=ws.root)
    assert out.code == 0, out.stderr
    history = cli("table", "history", "raw", "--json", cwd=ws.root).json()
    assert isinstance(history, list) and history[-1]["row_count"] == 3


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_the_catalog_on_both_databases(
    make_workspace: WorkspaceFactory, db_url: str, fmt: str
) -> None:
    from strata.config import set_value

    ws = make_workspace(git=False)
    set_value(ws.root, "metadata.url", db_url, scope="local")
    ws = make_workspace.open(ws.root)
    table = ws.tables.create(
        "deliveries", deliveries(range(5)), format="iceberg" if fmt == "iceberg" else "delta"
    )
    first = table.latest_version()
    table.append(deliveries(range(5, 7)))
    ws.tables.pin("deliveries", first, by="model:clf@1")
    assert [t.name for t in ws.tables.list()] == ["deliveries"]
    assert ws.tables.pins("deliveries")[0].pinned_by == "model:clf@1"
    assert ws.tables._stored_stats("deliveries", first) is not None
    assert table.history()[0].row_count == 7
    ws.tables.unpin("deliveries", first, by="model:clf@1")
    ws.tables.drop("deliveries", force=True)
    assert ws.tables.list() == []
