"""Runs with the real table catalog and model registry: reads and writes through the activity
seam land in the run at exact versions, and provenance reads their details."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from factories import Cli, WorkspaceFactory, commit_all, run_strata, write
from strata import Workspace
from strata.refs import parse_ref
from strata.tables import Format


def _deliveries(ws: Workspace) -> None:
    write(ws.root / "deliveries.csv", "id,delay_min\n1,5\n2,7\n3,30\n")
    ws.tables.create("deliveries", data=str(ws.root / "deliveries.csv"))
    commit_all(ws.root, "deliveries")


def test_reads_and_registrations_inside_a_run_are_its_inputs_and_outputs(
    sqlite_ws: Workspace,
) -> None:
    ws = sqlite_ws
    _deliveries(ws)
    ws.models  # noqa: B018 - opened before the run: still reports into it
    write(ws.root / "model.bin", b"weights")
    with ws.run("train", params={"lr": 0.1}) as run:
        rows = ws.table("deliveries").at(None).to_arrow()
        assert run.input("table:deliveries@latest") == "table:deliveries@0"
        ws.models.register("delay-classifier", ws.root / "model.bin", semver="v1.0.0")
    record = ws.lineage.run(run.ref)
    assert record.inputs == ("table:deliveries@0",)
    assert record.outputs == ("model:delay-classifier@1",)
    assert rows.num_rows == 3

    chain = ws.lineage.provenance("model:delay-classifier@latest")
    assert chain["ref"] == "model:delay-classifier@1"
    assert chain["artifact"]["semver"] == "v1.0.0"
    assert chain["artifact"]["run_ref"] == run.ref
    [table] = chain["data"]
    assert table["ref"] == "table:deliveries@0" and table["row_count"] == 3
    assert table["columns"] == {"id": "int64", "delay_min": "int64"}
    assert len(table["schema_hash"]) == 64


def test_after_the_run_nothing_more_records_into_it(sqlite_ws: Workspace) -> None:
    ws = sqlite_ws
    write(ws.root / "model.bin", b"weights")
    with ws.run("train") as run:
        ws.models.register("clf", ws.root / "model.bin")
    ws.models.register("clf", ws.root / "model.bin", bump="patch")
    assert ws.lineage.run(run.ref).outputs == ("model:clf@1",)


def test_impact_archive_goes_through_the_registry_audit_trail(sqlite_ws: Workspace) -> None:
    ws = sqlite_ws
    _deliveries(ws)
    write(ws.root / "model.bin", b"weights")
    with ws.run("train"):
        ws.table("deliveries").at(0).to_arrow()
        ws.models.register("clf", ws.root / "model.bin")
    ws.models.promote("model:clf@1", "production", reason="good")
    result = ws.lineage.impact("table:deliveries@0", archive_reason="bad rows in version 0")
    assert result.archived == ["model:clf@1"]
    assert ws.models.show("model:clf@1").stage == "archived"
    [event] = [e for e in ws.models.history("clf") if e.reason == "bad rows in version 0"]
    assert event.action == "stage"


TRAIN = """
import json, pathlib, sys
from strata import Workspace
ws = Workspace(".")
rows = ws.table("deliveries").at(0).to_arrow().num_rows
pathlib.Path("metrics.json").write_text(json.dumps({"rows": rows}))
ws.close()
"""


@pytest.mark.slow
def test_reproduce_exports_tables_and_reruns_against_the_same_versions(
    sqlite_ws: Workspace, tmp_path: Path
) -> None:
    ws = sqlite_ws
    _deliveries(ws)
    write(ws.root / "train.py", TRAIN)
    commit_all(ws.root, "training code")
    out = run_strata("run", "--name", "train", "--", sys.executable, "train.py", cwd=ws.root)
    assert out.code == 0, out.stderr
    ws.table("deliveries").append(str(ws.root / "deliveries.csv"))  # the table moves on
    [run] = ws.lineage.runs()
    result = ws.lineage.reproduce(run.ref, tmp_path / "audit", run=True)
    assert result.materialised == ["table:deliveries@0"]
    exported = pq.read_table(tmp_path / "audit" / "tables" / "deliveries@0.parquet")
    assert exported.num_rows == 3
    assert result.metrics == {"rows": [3.0, 3.0]} and result.matches is True


def test_stages_aliases_and_semvers_resolve_through_the_registry(sqlite_ws: Workspace) -> None:
    ws = sqlite_ws
    write(ws.root / "model.bin", b"weights")
    ws.models.register("clf", ws.root / "model.bin", semver="v1.0.0")
    write(ws.root / "model.bin", b"better weights")
    ws.models.register("clf", ws.root / "model.bin", semver="v1.1.0")
    ws.models.promote("model:clf@1", "production", reason="first")
    ws.models.set_alias("model:clf@2", "champion")
    exact = ws.lineage.exact
    assert exact("model:clf@production") == "model:clf@1"
    assert exact("model:clf@champion") == "model:clf@2"
    assert exact("model:clf@v1.1.0") == "model:clf@2"
    assert exact("models:/clf/latest") == "model:clf@2"
    described = ws.lineage.describer.describe(parse_ref("model:clf@2"))
    assert described is not None
    assert described["semver"] == "v1.1.0" and described["aliases"] == ["champion"]


def test_versions_registered_outside_runs_compare_by_what_the_registry_recorded(
    sqlite_ws: Workspace,
) -> None:
    import pyarrow as pa

    ws = sqlite_ws
    _deliveries(ws)
    ws.table("deliveries").append(pa.table({"id": [4], "delay_min": [12]}))
    for n, version in ((1, 0), (2, 1)):
        path = write(ws.root / f"model-{n}.bin", f"weights {n}".encode())
        ws.models.register(
            "clf", path, data=[f"table:deliveries@{version}"], metrics={"mae": 5.0 - n}
        )
    result = ws.lineage.compare("model:clf@1", "model:clf@2")
    [data] = result["data"]
    assert (data["name"], data["a"], data["b"], data["changed"]) == (
        "table:deliveries",
        "0",
        "1",
        True,
    )
    assert result["metrics"] == {"mae": [4.0, 3.0]}
    assert result["code"]["changed"] is False
    assert result["verdict"].startswith("changed: data (table:deliveries 0 → 1)")
    assert result["verdict"].endswith(
        "(environment not recorded for model:clf@1 and model:clf@2; "
        "params not recorded for model:clf@1 and model:clf@2)"
    )


def test_a_version_registered_outside_a_run_compares_with_one_a_run_made(
    sqlite_ws: Workspace, cli: Cli
) -> None:
    ws = sqlite_ws
    _deliveries(ws)
    path = write(ws.root / "model-1.bin", b"weights 1")
    ws.models.register("clf", path, data=["table:deliveries@0"], metrics={"mae": 4.0})
    with ws.run("train", params={"lr": 0.1}) as run:
        run.input("table:deliveries@0")
        ws.models.register("clf", write(ws.root / "model-2.bin", b"weights 2"))
    assert run.id
    out = cli("compare", "model:clf@1", "model:clf@2", cwd=ws.root)
    assert out.code == 0 and "Traceback" not in out.stderr, out.stderr
    assert "None" not in out.stdout
    assert "unknown: environment not recorded for model:clf@1" in out.stdout
    assert "unknown: params not recorded for model:clf@1" in out.stdout
    assert "metrics:\n  mae: 4.0 -> (not recorded)" in out.stdout
    result = cli("compare", "model:clf@1", "model:clf@2", "--json", cwd=ws.root).json()
    assert result["environment"]["changed"] is None and result["params"] == {}
    assert result["unknown"] == [
        "environment not recorded for model:clf@1",
        "params not recorded for model:clf@1",
    ]
    assert result["verdict"].startswith("nothing recorded differs: same data, code")


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_output_statistics_count_the_rows_the_run_wrote_not_the_table(
    sqlite_ws: Workspace, fmt: str
) -> None:
    import json

    import pyarrow as pa

    ws = sqlite_ws
    ws.tables.create(
        "scores", data=pa.table({"id": [1, 2, 3], "score": [0.1, 0.2, 0.3]}), format=fmt
    )
    config = ws.root / ".strata" / "config.toml"
    config.write_text(
        config.read_text() + '\n[lineage.openlineage]\ntransport = "file"\npath = "ol.jsonl"\n'
    )
    ws.__dict__.pop("lineage", None)
    ws.config = type(ws.config).load(ws.root)
    with ws.run("score"):
        ws.table("scores").append(pa.table({"id": [4, 5], "score": [0.4, 0.5]}))
    events = [json.loads(line) for line in (ws.root / "ol.jsonl").read_text().splitlines()]
    [output] = events[-1]["outputs"]
    assert output["name"] == "table:scores"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 2  # the table has 5


@pytest.mark.parametrize("format", ["delta", "iceberg"])
def test_strata_user_names_table_commits_the_model_trail_and_runs(
    sqlite_ws: Workspace,
    make_workspace: WorkspaceFactory,
    monkeypatch: pytest.MonkeyPatch,
    format: Format,
) -> None:
    monkeypatch.setenv("STRATA_USER", "ana@example.com")
    ws = make_workspace.open(sqlite_ws.root)
    write(ws.root / "model.bin", b"weights")
    with ws.run("train") as run:
        table = ws.tables.create("t", data=pa.table({"id": [1, 2]}), format=format)
        table.write(pa.table({"id": [3]}))
        ws.models.register("clf", ws.root / "model.bin")
    assert [c.user for c in ws.table("t").history()] == ["ana@example.com"] * 2
    assert [e.actor for e in ws.models.history("clf")] == ["ana@example.com"]
    assert ws.lineage.run(run.ref).environment["user"] == "ana@example.com"
