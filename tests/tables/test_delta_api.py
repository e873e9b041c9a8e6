"""The Python API on Delta tables: create, write, merge, delete, update, restore, history,
time travel, stats, diff, and what tables report to the activity seam."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from factories import WorkspaceFactory
from strata import Workspace
from strata.errors import TableError, TableVersionNotFoundError, UserInputError
from tabledata import RecordingActivity, deliveries, sorted_rows


@pytest.mark.parametrize("name", ["in.parquet", "in.csv", "in.jsonl"])
def test_create_from_a_file(
    make_workspace: WorkspaceFactory, write_file: Callable[[str, pa.Table], Path], name: str
) -> None:
    ws = make_workspace(git=False)
    rows = deliveries(range(5))
    table = ws.tables.create("deliveries", write_file(name, rows))
    assert table.latest_version() == 0
    assert sorted_rows(table.at(0).to_arrow()) == sorted_rows(rows)
    assert table.location == str(ws.root / "tables" / "deliveries")


@pytest.mark.parametrize(
    "frame",
    [
        lambda rows: rows,
        lambda rows: rows.to_pandas(),
        lambda rows: pl.from_arrow(rows),
        lambda rows: rows.to_batches()[0],
    ],
    ids=["pyarrow", "pandas", "polars", "record-batch"],
)
def test_create_from_a_frame(
    make_workspace: WorkspaceFactory, frame: Callable[[pa.Table], object]
) -> None:
    ws = make_workspace(git=False)
    rows = deliveries(range(5))
    table = ws.tables.create("deliveries", frame(rows))
    assert sorted_rows(table.to_arrow()) == sorted_rows(rows)


def test_create_empty_from_a_schema_partitioned(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(git=False)
    table = ws.tables.create(
        "deliveries", schema="id:int64,weather:string,delay_min:double", partition_by=["weather"]
    )
    assert table.to_arrow().num_rows == 0
    table.append(deliveries(range(3), weather="rain"))
    assert (Path(table.location) / "weather=rain").is_dir()
    assert table.stats().columns["weather"].min == "rain"


def test_a_table_at_another_location(make_workspace: WorkspaceFactory, tmp_path: Path) -> None:
    ws = make_workspace(git=False)
    where = tmp_path / "lake" / "deliveries"
    table = ws.tables.create("deliveries", deliveries(range(3)), location=f"file://{where}")
    assert table.location == str(where)
    assert (where / "_delta_log").is_dir()
    assert ws.tables.list()[0].location == str(where)


def test_the_default_root_is_git_ignored(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(git=False)
    ws.tables.create("deliveries", deliveries(range(3)))
    assert "*" in (ws.root / "tables" / ".gitignore").read_text().splitlines()


def test_append_and_overwrite_make_versions_and_old_ones_stay(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    assert table.append(deliveries(range(10, 15)), message="more").version == 1
    assert table.overwrite(deliveries(range(100, 102))).version == 2
    assert table.at(0).to_arrow().num_rows == 10
    assert table.at(1).to_arrow().num_rows == 15
    assert table.to_arrow().column("id").to_pylist() == [100, 101]


def test_merge_schema_adds_columns_and_old_versions_read_as_before(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    wider = deliveries(range(10, 12)).append_column("driver", pa.array(["ann", "bob"]))
    with pytest.raises(TableError, match="no column 'driver'"):
        table.append(wider)
    table.append(wider, merge_schema=True)
    assert table.at(0).to_arrow().column_names == ["id", "weather", "delay_min"]
    latest = table.to_arrow()
    assert latest.column_names == ["id", "weather", "delay_min", "driver"]
    assert latest.column("driver").null_count == 10


def test_an_incompatible_type_change_needs_overwrite_schema(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    retyped = pa.table({"id": ["a", "b"], "weather": ["x", "y"], "delay_min": [1.0, 2.0]})
    with pytest.raises(TableError, match="incompatible type change"):
        table.append(retyped, merge_schema=True)
    with pytest.raises(UserInputError, match="only an overwrite"):
        table.append(retyped, overwrite_schema=True)
    assert table.latest_version() == 0
    table.overwrite(retyped, overwrite_schema=True)
    assert table.to_arrow().schema.field("id").type == pa.string()
    assert table.at(0).to_arrow().schema.field("id").type == pa.int64()


def test_merge_updates_matches_and_inserts_the_rest_in_one_commit(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    source = deliveries(range(8, 12), weather="snow", delay=50)
    result = table.merge(source, on=["id"])
    assert result.version == 1
    rows = {r["id"]: r for r in table.to_arrow().to_pylist()}
    assert len(rows) == 12
    assert rows[9]["weather"] == "snow" and rows[11]["weather"] == "snow"
    assert rows[7]["weather"] == "sun"
    assert table.history()[0].operation == "MERGE"


def test_merge_update_only_some_columns_and_delete_when(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    source = deliveries(range(0, 4), weather="snow", delay=99).append_column(
        "cancelled", pa.array([False, True, False, False])
    )
    table.merge(source, on=["id"], update=["delay_min"], delete_when="source.cancelled")
    rows = {r["id"]: r for r in table.to_arrow().to_pylist()}
    assert 1 not in rows
    assert rows[0] == {"id": 0, "weather": "sun", "delay_min": 99.0}
    assert len(rows) == 9


def test_delete_and_update_with_sql(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    table.delete("id >= 8")
    table.update({"weather": "'rain'", "delay_min": "delay_min * 2"}, where="id < 2")
    rows = {r["id"]: r for r in table.to_arrow().to_pylist()}
    assert sorted(rows) == list(range(8))
    assert rows[1] == {"id": 1, "weather": "rain", "delay_min": 4.0}
    assert rows[5]["weather"] == "sun"


def test_restore_is_a_new_commit_with_the_old_files(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    table.append(deliveries(range(10, 20)))
    table.delete("id < 5")
    old_files = table.files(1)
    result = table.restore(1, message="roll back the delete")
    assert result.version == 3
    assert table.files(3) == old_files
    assert sorted_rows(table.to_arrow()) == sorted_rows(table.at(1).to_arrow())
    latest = table.history()[0]
    assert (latest.operation, latest.message) == ("RESTORE", "roll back the delete")


def test_history_has_messages_users_runs_and_row_counts(table_ws: Workspace) -> None:
    activity = RecordingActivity(run="01JDRUNAPPEND")
    table_ws.activity = activity
    table = table_ws.table("deliveries")
    table.append(deliveries(range(10, 13)), message="three more")
    table.delete("id = 0")
    newest, middle, first = table.history()
    assert (first.version, first.operation, first.message, first.row_count) == (
        0,
        "WRITE",
        "first load",
        10,
    )
    assert (middle.message, middle.run_id, middle.row_count) == ("three more", "01JDRUNAPPEND", 13)
    assert middle.parameters == {"mode": "Append"}
    assert middle.user
    assert (newest.operation, newest.row_count, newest.run_id) == ("DELETE", 12, "01JDRUNAPPEND")
    assert first.run_id is None


def test_reads_and_writes_report_exact_versions(table_ws: Workspace) -> None:
    activity = RecordingActivity()
    table_ws.activity = activity
    table = table_ws.table("deliveries")
    table.append(deliveries(range(10, 11)))
    table.to_arrow()
    table.at(0).to_pandas()
    table_ws.tables.create("other", deliveries(range(2)))
    assert activity.writes == ["table:deliveries@1", "table:other@0"]
    assert activity.reads == ["table:deliveries@1", "table:deliveries@0"]


def test_time_travel_by_timestamp(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    time.sleep(0.02)
    between = datetime.now(UTC)
    time.sleep(0.02)
    table.append(deliveries(range(10, 20)))
    assert table.resolve(between) == 0
    assert table.resolve(datetime.now(UTC)) == 1
    assert table.at(between.replace(tzinfo=None)).version == 0  # naive means UTC
    with pytest.raises(TableVersionNotFoundError, match="did not exist yet"):
        table.resolve(between - timedelta(days=1))


def test_read_options_and_frames(table_ws: Workspace) -> None:
    version = table_ws.table("deliveries").at(0)
    assert version.to_arrow(columns=["id"], where="delay_min > 8", limit=5).to_pylist() == [
        {"id": 8},
        {"id": 9},
    ]
    assert version.to_arrow(limit=3).num_rows == 3
    frame = version.to_pandas(columns=["id", "weather"])
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == ["id", "weather"]
    polars_frame = version.to_polars(where="id < 3")
    assert isinstance(polars_frame, pl.DataFrame) and polars_frame.height == 3
    with pytest.raises(UserInputError, match="no column nope"):
        version.to_arrow(columns=["nope"])


def test_stats_come_from_the_log_and_are_stored(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    table.append(
        pa.table({"id": [10, 11], "weather": [None, "rain"], "delay_min": [None, 0.5]}),
    )
    stats = table.stats(1)
    assert (stats.row_count, stats.file_count) == (12, 2)
    assert stats.columns["weather"].null_count == 1
    assert (stats.columns["delay_min"].min, stats.columns["delay_min"].max) == (0.5, 10.0)
    assert (stats.columns["id"].min, stats.columns["id"].max) == (0, 11)
    assert [f.name for f in stats.schema] == ["id", "weather", "delay_min"]
    assert table_ws.tables._stored_stats("deliveries", 1) == stats


def test_keyed_diff_counts_and_samples_rows(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    table.merge(deliveries(range(8, 12), weather="snow"), on=["id"])
    table.delete("id = 0")
    diff = table_ws.tables.diff("table:deliveries@0", "table:deliveries@2", key=["id"])
    assert diff.rows is not None
    assert (diff.rows.added, diff.rows.removed, diff.rows.changed) == (2, 1, 2)
    assert diff.rows.changed_by_column == {"weather": 2}
    assert {r["id"] for r in diff.rows.sample_added} == {10, 11}
    assert diff.rows.sample_removed[0]["id"] == 0
    changed = {c["key"]["id"]: c["changes"] for c in diff.rows.sample_changed}
    assert changed[8] == {"weather": {"old": "sun", "new": "snow"}}
    assert diff.row_count == (10, 11)
    assert diff.files_added and diff.files_removed


def test_diff_shows_schema_changes(table_ws: Workspace) -> None:
    table = table_ws.table("deliveries")
    wider = deliveries(range(10, 11)).append_column("driver", pa.array(["ann"]))
    table.append(wider, merge_schema=True)
    diff = table_ws.tables.diff("table:deliveries@0", "table:deliveries@latest")
    assert diff.columns_added == [{"name": "driver", "type": "string"}]
    assert diff.rows is None
    assert diff.to_dict()["row_count"] == {"old": 10, "new": 11}


def test_drop_needs_force_and_removes_the_files(table_ws: Workspace) -> None:
    location = Path(table_ws.table("deliveries").location)
    with pytest.raises(UserInputError, match="deletes it and its data") as refused:
        table_ws.tables.drop("deliveries")
    assert "--force" in refused.value.hint
    assert location.is_dir()
    table_ws.tables.drop("deliveries", force=True)
    assert table_ws.tables.list() == []
    assert not location.exists()


def test_columns_that_need_quoting(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(git=False)
    rows = pa.table({"Delivery ID": [1, 2], "Delay": [5.0, 6.0]})
    table = ws.tables.create("odd", rows)
    table.merge(pa.table({"Delivery ID": [2, 3], "Delay": [7.0, 8.0]}), on=["Delivery ID"])
    table.update({"Delay": '"Delay" + 1'}, where='"Delivery ID" = 1')
    assert sorted(table.to_arrow(columns=["Delivery ID", "Delay"]).to_pylist(), key=str) == [
        {"Delivery ID": 1, "Delay": 6.0},
        {"Delivery ID": 2, "Delay": 7.0},
        {"Delivery ID": 3, "Delay": 8.0},
    ]
    assert table.to_arrow(where='"Delay" > 6.5').num_rows == 2
