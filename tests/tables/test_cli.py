"""``strata table ...`` on the command line: each command, its human output and --json."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from factories import Cli, WorkspaceFactory
from strata import Workspace
from tabledata import deliveries, sorted_rows

FileMaker = Callable[[str, pa.Table], Path]


def _ok(cli: Cli, ws: Workspace, *args: str) -> Any:
    out = cli("table", *args, cwd=ws.root)
    assert out.code == 0, out.stderr
    return out.json() if "--json" in args else out.stdout


def test_create_append_history_show(
    make_workspace: WorkspaceFactory, cli: Cli, write_file: FileMaker
) -> None:
    ws = make_workspace(git=False)
    first = write_file("first.csv", deliveries(range(3)))
    created = _ok(cli, ws, "create", "deliveries", "--from", str(first), "--json")
    assert (created["format"], created["version"]) == ("delta", 0)
    more = write_file("more.csv", deliveries(range(3, 5)))
    assert "table:deliveries@1" in _ok(cli, ws, "append", "deliveries", str(more), "-m", "oct")
    history = _ok(cli, ws, "history", "deliveries", "--json")
    assert [(h["version"], h["message"], h["row_count"]) for h in history] == [
        (1, "oct", 5),
        (0, "create deliveries", 3),
    ]
    assert "oct" in _ok(cli, ws, "history", "deliveries")
    rows = _ok(cli, ws, "show", "table:deliveries@0", "--json")
    assert sorted(r["id"] for r in rows) == [0, 1, 2]
    some = _ok(
        cli,
        ws,
        "show",
        "table:deliveries@1",
        "--columns",
        "id",
        "--where",
        "id >= 3",
        "--json",
    )
    assert sorted(r["id"] for r in some) == [3, 4]
    assert "weather" in _ok(cli, ws, "show", "table:deliveries@latest", "--limit", "2")
    listed = _ok(cli, ws, "list", "--json")
    assert [t["name"] for t in listed] == ["deliveries"]


def test_show_at_a_timestamp(table_ws: Workspace, cli: Cli) -> None:
    table = table_ws.table("deliveries")
    created = table.history()[0].timestamp
    table.append(deliveries(range(10, 20)))
    stamp = created.strftime("%Y-%m-%dT%H:%M:%S.%f")
    rows = _ok(cli, table_ws, "show", f"table:deliveries@{stamp}", "--limit", "100", "--json")
    assert len(rows) == 10


def test_schema_create_merge_delete_update_restore(
    make_workspace: WorkspaceFactory, cli: Cli, write_file: FileMaker
) -> None:
    ws = make_workspace(git=False)
    _ok(cli, ws, "create", "d", "--schema", "id:int64,weather:string,delay_min:double")
    _ok(cli, ws, "append", "d", str(write_file("a.jsonl", deliveries(range(5)))))
    fixes = write_file("fixes.csv", deliveries(range(3, 7), weather="snow"))
    merged = _ok(cli, ws, "merge", "d", str(fixes), "--on", "id", "--json")
    assert merged["operation"] == "MERGE" and merged["metrics"]["num_target_rows_updated"] == 2
    _ok(cli, ws, "delete", "d", "--where", "id = 0")
    _ok(cli, ws, "update", "d", "--set", "delay_min=0", "--where", "weather = 'snow'")
    rows = {r["id"]: r for r in ws.table("d").to_arrow().to_pylist()}
    assert sorted(rows) == [1, 2, 3, 4, 5, 6]
    assert rows[6]["delay_min"] == 0 and rows[1]["delay_min"] == 2.0
    restored = _ok(cli, ws, "restore", "d", "1", "--json")
    assert restored["operation"] == "RESTORE"
    assert sorted_rows(ws.table("d").to_arrow()) == sorted_rows(ws.table("d").at(1).to_arrow())


def test_overwrite_with_schema_options(
    table_ws: Workspace, cli: Cli, write_file: FileMaker
) -> None:
    wider = deliveries(range(2)).append_column("driver", pa.array(["a", "b"]))
    _ok(
        cli, table_ws, "append", "deliveries", str(write_file("w.parquet", wider)), "--merge-schema"
    )
    retyped = pa.table({"id": ["x"], "weather": ["sun"]})
    path = str(write_file("r.parquet", retyped))
    _ok(cli, table_ws, "overwrite", "deliveries", path, "--overwrite-schema")
    assert table_ws.table("deliveries").to_arrow().schema.names == ["id", "weather"]


def test_export_stats_diff(table_ws: Workspace, cli: Cli, tmp_path: Path) -> None:
    table_ws.table("deliveries").merge(deliveries(range(8, 12), weather="rain"), on=["id"])
    out = tmp_path / "old.parquet"
    _ok(cli, table_ws, "export", "table:deliveries@0", str(out))
    assert pq.read_table(out).num_rows == 10
    stats = _ok(cli, table_ws, "stats", "table:deliveries@1", "--json")
    assert stats["row_count"] == 12 and stats["columns"]["id"]["max"] == 11
    assert "12 rows" in _ok(cli, table_ws, "stats", "table:deliveries@1")
    diff = _ok(
        cli, table_ws, "diff", "table:deliveries@0", "table:deliveries@1", "--key", "id", "--json"
    )
    assert (diff["rows"]["added"], diff["rows"]["changed"]) == (2, 2)
    text = _ok(cli, table_ws, "diff", "table:deliveries@0", "table:deliveries@1", "--key", "id")
    assert "+2 -0 ~2" in text


def test_pin_unpin_pins_and_maintenance(table_ws: Workspace, cli: Cli) -> None:
    table_ws.table("deliveries").overwrite(deliveries(range(50, 52)))
    _ok(cli, table_ws, "pin", "table:deliveries@0", "--by", "model:clf@3")
    assert _ok(cli, table_ws, "pins", "--json")[0]["pinned_by"] == "model:clf@3"
    history = _ok(cli, table_ws, "history", "deliveries", "--json")
    assert [h["pinned"] for h in history] == [False, True]
    vacuum = _ok(cli, table_ws, "vacuum", "deliveries", "--retain", "0h", "--json")
    assert vacuum["files"] == [] and vacuum["pinned_versions"] == [0]
    _ok(cli, table_ws, "optimize", "deliveries")
    _ok(cli, table_ws, "checkpoint", "deliveries", "--clean-logs", "--log-retain", "0h")
    assert table_ws.table("deliveries").at(0).to_arrow().num_rows == 10
    _ok(cli, table_ws, "unpin", "table:deliveries@0", "--by", "model:clf@3")
    dry = _ok(cli, table_ws, "vacuum", "deliveries", "--retain", "0h", "--dry-run", "--json")
    assert dry["dry_run"] and dry["files"]


def test_drop_and_register(table_ws: Workspace, cli: Cli, tmp_path: Path) -> None:
    import deltalake

    elsewhere = tmp_path / "foreign"
    deltalake.write_deltalake(str(elsewhere), deliveries(range(4)))
    registered = _ok(cli, table_ws, "register", "foreign", str(elsewhere), "--json")
    assert (registered["format"], registered["origin"]) == ("delta", "registered")
    assert table_ws.table("foreign").to_arrow().num_rows == 4
    _ok(cli, table_ws, "drop", "foreign", "--force")
    assert (elsewhere / "_delta_log").is_dir(), "a registered table's files are not Strata's"
    _ok(cli, table_ws, "drop", "deliveries", "--force")
    assert _ok(cli, table_ws, "list", "--json") == []


@pytest.mark.parametrize("format", ["delta", "iceberg"])
def test_optimize_with_nothing_to_do_commits_nothing_and_says_so(
    make_workspace: WorkspaceFactory, cli: Cli, format: str
) -> None:
    ws = make_workspace(git=False)
    ws.tables.create("t", deliveries(range(10)), format=format)  # type: ignore[arg-type]
    latest = ws.table("t").latest_version()
    assert "nothing to do" in _ok(cli, ws, "optimize", "t")
    out = _ok(cli, ws, "optimize", "t", "--json")
    assert (out["committed"], out["version"]) == (False, latest)
    assert len(ws.table("t").history()) == 1
    for batch in range(3):
        ws.table("t").append(deliveries(range(10 + batch, 11 + batch)))
    out = _ok(cli, ws, "optimize", "t", "--json")
    assert out["committed"] and out["version"] > latest + 3 - 1
    assert sorted_rows(ws.table("t").to_arrow()) == sorted_rows(deliveries(range(13)))
