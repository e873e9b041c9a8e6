"""The same table commands on Iceberg, its extras (partition evolution, tags, branches), and
the clear errors where one format cannot do what the other can."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from factories import Cli, WorkspaceFactory, assert_one_line_error
from strata import Workspace
from strata.errors import TableVersionNotFoundError, UnsupportedByFormatError, UserInputError
from tabledata import RecordingActivity, deliveries, sorted_rows


@pytest.fixture
def ice_ws(make_workspace: WorkspaceFactory) -> Workspace:
    """A workspace holding Iceberg table ``events`` at version 1 with ids 0..9."""
    ws = make_workspace(git=False)
    ws.tables.create("events", deliveries(range(10)), format="iceberg", message="first load")
    return ws


def _ids(data: pa.Table) -> list[int]:
    return sorted(data.column("id").to_pylist())


def test_writes_history_and_time_travel(ice_ws: Workspace) -> None:
    activity = RecordingActivity(run="01JDICEBERGRUN")
    ice_ws.activity = activity
    table = ice_ws.table("events")
    assert table.location == str(ice_ws.root / "tables" / "events")
    first = table.latest_version()
    appended = table.append(deliveries(range(10, 12)), message="two more")
    merged = table.merge(deliveries(range(11, 14), weather="snow"), on=["id"])
    deleted = table.delete("id < 2")
    assert first < appended.version < merged.version < deleted.version
    assert _ids(table.at(first).to_arrow()) == list(range(10))
    assert _ids(table.at(appended.version).to_arrow()) == list(range(12))
    assert _ids(table.to_arrow()) == list(range(2, 14))
    latest = {r["id"]: r["weather"] for r in table.to_arrow().to_pylist()}
    assert latest[12] == "snow" and latest[5] == "sun"
    history = table.history()
    assert history[-1].message == "first load" and history[-1].row_count == 10
    assert any(c.message == "two more" and c.run_id == "01JDICEBERGRUN" for c in history)
    assert history[0].row_count == 12
    assert activity.writes == [
        f"table:events@{v}" for v in (appended.version, merged.version, deleted.version)
    ]
    assert activity.reads[0] == f"table:events@{first}"
    read = table.at(first).to_arrow(columns=["id"], where="delay_min >= 9", limit=10)
    assert read.to_pylist() == [{"id": 8}, {"id": 9}]


def test_restore_points_at_the_old_files(ice_ws: Workspace) -> None:
    table = ice_ws.table("events")
    first = table.latest_version()
    table.overwrite(deliveries(range(50, 52)))
    restored = table.restore(first)
    assert table.files(restored.version) == table.files(first)
    assert _ids(table.to_arrow()) == list(range(10))
    assert table.history()[0].operation == "RESTORE"


def test_stats_from_manifests_and_keyed_diff(ice_ws: Workspace) -> None:
    table = ice_ws.table("events")
    first = table.latest_version()
    table.append(pa.table({"id": [10], "weather": [None], "delay_min": [0.25]}))
    stats = table.stats()
    assert (stats.row_count, stats.file_count) == (11, 2)
    assert stats.columns["weather"].null_count == 1
    assert (stats.columns["delay_min"].min, stats.columns["id"].max) == (0.25, 10)
    diff = ice_ws.tables.diff(f"table:events@{first}", "table:events@latest", key=["id"])
    assert diff.rows is not None and (diff.rows.added, diff.rows.removed) == (1, 0)


def test_merge_schema_adds_a_column(ice_ws: Workspace) -> None:
    table = ice_ws.table("events")
    first = table.latest_version()
    table.append(
        deliveries(range(10, 11)).append_column("driver", pa.array(["ann"])), merge_schema=True
    )
    assert table.to_arrow().column_names == ["id", "weather", "delay_min", "driver"]
    assert table.at(first).to_arrow().column_names == ["id", "weather", "delay_min"]


def test_partition_evolution_reads_old_and_new_layouts_together(ice_ws: Workspace) -> None:
    table = ice_ws.table("events")
    table.partition(add="id", transform="bucket[4]")
    table.append(deliveries(range(10, 20)))
    table.partition(add="weather")
    table.append(deliveries(range(20, 25), weather="rain"))
    data = Path(table.location) / "data"
    assert any(p.name.startswith("id_bucket4=") for p in data.iterdir())
    assert _ids(table.to_arrow()) == list(range(25))
    assert _ids(table.to_arrow(where="weather = 'rain'")) == list(range(20, 25))
    table.partition(remove="id_bucket4")
    table.append(deliveries(range(25, 26)))
    assert table.to_arrow().num_rows == 26


def test_tags_and_branches_are_selectors(ice_ws: Workspace) -> None:
    table = ice_ws.table("events")
    first = table.latest_version()
    table.append(deliveries(range(10, 12)))
    table.tag(first, "audit-q3")
    table.branch("experiment", first)
    assert ice_ws.tables.version_of("table:events@audit-q3")[1] == first
    _, version = ice_ws.tables.version_of("table:events@experiment")
    assert version == first
    with pytest.raises(TableVersionNotFoundError, match="no tag or branch 'nope'"):
        ice_ws.tables.version_of("table:events@nope")


def test_the_cli_on_iceberg(ice_ws: Workspace, cli: Cli) -> None:
    first = ice_ws.table("events").latest_version()
    out = cli("table", "tag", f"table:events@{first}", "audit", cwd=ice_ws.root)
    assert out.code == 0, out.stderr
    shown = cli("table", "show", "table:events@audit", "--json", "--limit", "100", cwd=ice_ws.root)
    assert shown.code == 0 and len(shown.json()) == 10  # type: ignore[arg-type]
    out = cli("table", "partition", "events", "--add", "delay_min", cwd=ice_ws.root)
    assert out.code == 0, out.stderr
    out = cli("table", "update", "events", "--set", "delay_min=0", "--json", cwd=ice_ws.root)
    assert out.code == 0, out.stderr
    first = out.json()["version"]  # type: ignore[call-overload, index]
    assert set(ice_ws.table("events").to_arrow().column("delay_min").to_pylist()) == {0.0}
    out = cli("table", "update", "events", "--set", "delay_min=delay_min * 2", cwd=ice_ws.root)
    assert_one_line_error(out, UnsupportedByFormatError.exit_code, "Iceberg table events")
    out = cli("table", "show", "table:events", "--where", "id >>> 1", cwd=ice_ws.root)
    assert_one_line_error(out, UserInputError.exit_code, "bad predicate")
    out = cli("table", "partition", "events", "--add", "id", "--transform", "wat", cwd=ice_ws.root)
    assert_one_line_error(out, UserInputError.exit_code, "unknown partition transform")
    assert ice_ws.table("events").latest_version() == first


def test_a_pinned_version_survives_maintenance(ice_ws: Workspace) -> None:
    table = ice_ws.table("events")
    first = table.latest_version()
    pinned_rows = sorted_rows(table.at(first).to_arrow())
    ice_ws.tables.pin("events", first, by="model:delay-classifier@3")
    for batch in range(50):
        if batch % 10 == 9:
            table.delete(f"id = {batch}")
        else:
            table.append(deliveries(range(100 + batch, 101 + batch)))
    table.optimize()
    vacuumed = table.vacuum(retain_hours=0)
    assert vacuumed.removed
    table.checkpoint(clean_logs=True, log_retain_hours=0)
    reopened = ice_ws.table("events")
    assert sorted_rows(reopened.at(first).to_arrow()) == pinned_rows
    with pytest.raises(TableVersionNotFoundError):
        reopened.at(first + 1).to_arrow()  # unpinned and expired


def test_what_iceberg_cannot_do_is_refused_clearly(ice_ws: Workspace) -> None:
    table = ice_ws.table("events")
    with pytest.raises(UnsupportedByFormatError, match="--update or --delete-when"):
        table.merge(deliveries(range(2)), on=["id"], update=["weather"])
    with pytest.raises(UnsupportedByFormatError, match="z-order"):
        table.optimize(zorder=["id"])
    with pytest.raises(UnsupportedByFormatError, match="incompatible types"):
        table.overwrite(pa.table({"id": ["x"]}), overwrite_schema=True)
    assert table.history()[0].message == "first load"


def test_version_hint_names_the_current_metadata(ice_ws: Workspace) -> None:
    """Engines that open the folder (Hadoop tables, DuckDB, pyiceberg's StaticTable) follow
    metadata/version-hint.text to the metadata Strata's catalog holds, after every commit."""
    from pyiceberg.table import StaticTable

    table = ice_ws.table("events")
    metadata = Path(table.location) / "metadata"

    def opened_by_folder() -> list[int]:
        number = (metadata / "version-hint.text").read_text()
        assert (metadata / f"v{number}.metadata.json").is_file()
        return _ids(StaticTable.from_metadata(table.location).scan().to_arrow())

    assert opened_by_folder() == list(range(10))
    table.append(deliveries(range(10, 12)))
    assert opened_by_folder() == list(range(12))
    table.tag(table.latest_version(), "audit")
    table.delete("id < 5")
    table.checkpoint(clean_logs=True, log_retain_hours=0)
    assert opened_by_folder() == list(range(5, 12))


def test_history_lists_pinned_versions_still_readable_after_expiry(ice_ws: Workspace) -> None:
    table = ice_ws.table("events")
    first = table.latest_version()
    ice_ws.tables.pin("events", first, by="model:delay-classifier@3")
    for batch in range(3):
        table.append(deliveries(range(100 + batch, 101 + batch)))
    table.vacuum(retain_hours=0)
    listed = [c.version for c in table.history()]
    assert listed == [table.latest_version(), first]
    assert _ids(table.at(listed[-1]).to_arrow()) == list(range(10))


def test_update_sets_literals_and_columns_on_matching_rows(ice_ws: Workspace) -> None:
    table = ice_ws.table("events")
    before = table.latest_version()
    result = table.update({"delay_min": "0", "weather": "'it''s snow'"}, where="id < 3")
    assert result.committed and result.metrics == {"num_updated_rows": 3}
    rows = {r["id"]: r for r in table.to_arrow().to_pylist()}
    assert [rows[i]["delay_min"] for i in range(4)] == [0.0, 0.0, 0.0, 4.0]
    assert rows[0]["weather"] == "it's snow" and rows[3]["weather"] == "sun"
    table.update({"delay_min": "id"}, where="id = 9")
    assert {r["id"]: r for r in table.to_arrow().to_pylist()}[9]["delay_min"] == 9.0
    assert table.history()[0].operation == "UPDATE" and table.latest_version() > before
    nothing = table.update({"delay_min": "1"}, where="id > 1000")
    assert not nothing.committed and nothing.version == table.latest_version()
    with pytest.raises(UserInputError, match=r"cannot set column delay_min .* not a double"):
        table.update({"delay_min": "'soon'"})
    with pytest.raises(UserInputError, match="has no column nope"):
        table.update({"nope": "1"})


def test_reading_an_expired_version_names_it_and_the_readable_ones(
    ice_ws: Workspace, cli: Cli
) -> None:
    table = ice_ws.table("events")
    first = table.latest_version()
    ice_ws.tables.pin("events", first)
    table.overwrite(deliveries(range(20, 22)))  # expired below
    table.overwrite(deliveries(range(30, 32)))  # expired below
    table.append(deliveries(range(40, 41)))
    table.vacuum(retain_hours=0)
    latest = table.latest_version()
    out = cli("table", "show", f"table:events@{first + 1}", cwd=ice_ws.root)
    assert_one_line_error(
        out,
        TableVersionNotFoundError.exit_code,
        f"version {first + 1} of table events is no longer readable: its snapshot was expired",
        f"versions still readable: {first}, {latest}",
    )
    with pytest.raises(TableVersionNotFoundError, match="expired"):
        table.at(latest - 1).to_arrow()
    out = cli("table", "show", f"table:events@{latest + 1}", cwd=ice_ws.root)
    assert_one_line_error(out, TableVersionNotFoundError.exit_code, f"has no version {latest + 1}")
    assert _ids(table.at(first).to_arrow()) == list(range(10))
