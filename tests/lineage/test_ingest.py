"""OpenLineage events from other tools, ingested: the shapes files come in, dataset refs, and
how they join Strata's own tables."""

from __future__ import annotations

import json
from typing import Any

import pytest

from factories import Cli, assert_one_line_error, write
from strata import Workspace
from strata.refs import dataset_name


@pytest.mark.parametrize(
    "shape", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000]
)
def test_a_file_nested_too_deep_is_refused_in_one_line(
    sqlite_ws: Workspace, cli: Cli, shape: str
) -> None:
    write(sqlite_ws.root / "deep.json", shape)
    out = cli("openlineage", "ingest", "deep.json", cwd=sqlite_ws.root)
    assert_one_line_error(out, 2, "deep.json", "nested 100000 levels deep")
    assert sqlite_ws.lineage.runs() == []


def _spark_event(run_id: str, event_type: str, inputs: list[Any], outputs: list[Any]) -> Any:
    """A RunEvent as the Spark integration writes it, built with the client's classes."""
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.serde import Serde

    event = RunEvent(
        eventType=RunState(event_type),
        eventTime="2024-10-15T10:05:00+00:00",
        run=Run(runId=run_id),
        job=Job(namespace="spark-cluster", name="aggregate_deliveries.execute_insert"),
        producer="https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/spark",
        inputs=inputs,
        outputs=outputs,
    )
    return Serde.to_dict(event)


def _dataset(kind: str, namespace: str, name: str, version: str | None = None) -> Any:
    from openlineage.client import event_v2
    from openlineage.client.facet_v2 import dataset_version_dataset

    facets = {}
    if version is not None:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=version
        )
    cls = event_v2.InputDataset if kind == "in" else event_v2.OutputDataset
    return cls(namespace=namespace, name=name, facets=facets)


def test_spark_datasets_get_refs_and_a_strata_table_location_joins_the_table(
    sqlite_ws: Workspace, cli: Cli
) -> None:
    ws = sqlite_ws
    write(ws.root / "deliveries.csv", "id,delay_min\n1,5\n2,7\n")
    table = ws.tables.create("deliveries", data=str(ws.root / "deliveries.csv"))
    run_id = "0192f0a4-7c2e-7a3b-9c1d-2e3f4a5b6c7d"
    event = _spark_event(
        run_id,
        "COMPLETE",
        [_dataset("in", "file", table.location, "0")],
        [_dataset("out", "s3://lake", "gold/delay_by_weather", "3")],
    )
    write(ws.root / "events.json", json.dumps(event, indent=2))  # one event, pretty-printed
    out = cli("openlineage", "ingest", "events.json", "--json", cwd=ws.root)
    assert out.json() == {"ingested": 1, "rejected": []}, out.stderr
    gold = "dataset:s3://lake/gold/delay_by_weather"
    down = cli("lineage", "table:deliveries@0", "--downstream", "--json", cwd=ws.root).json()
    assert {n["ref"] for n in down["nodes"]} >= {"table:deliveries@0", f"{gold}@3"}
    for args in (["lineage", gold], ["provenance", f"{gold}@3"], ["impact", "table:deliveries@0"]):
        shown = cli(*args, cwd=ws.root)
        assert shown.code == 0 and gold in shown.stdout, (args, shown.stderr)
    chain = cli("provenance", f"{gold}@3", "--json", cwd=ws.root).json()
    assert [d["ref"] for d in chain["data"]] == ["table:deliveries@0"]


def test_datasets_whose_namespace_and_name_differ_only_by_the_split_stay_apart(
    sqlite_ws: Workspace,
) -> None:
    event = _spark_event(
        "0192f0a4-7c2e-7a3b-9c1d-2e3f4a5b6c7e",
        "COMPLETE",
        [_dataset("in", "s3://a", "b/c"), _dataset("in", "s3://a/b", "c")],
        [],
    )
    write(sqlite_ws.root / "e.json", json.dumps(event))
    assert sqlite_ws.lineage.ingest(sqlite_ws.root / "e.json").ingested == 1
    [run] = sqlite_ws.lineage.runs()
    assert run.inputs == ("dataset:s3://a/b/c", "dataset:s3://a%2Fb/c")


def _to_dict(event: Any) -> Any:
    from openlineage.client.serde import Serde

    return Serde.to_dict(event)


def test_dataset_and_job_events_are_taken(sqlite_ws: Workspace, cli: Cli) -> None:
    """A DatasetEvent records its dataset; a JobEvent (dbt's static lineage) links each of its
    inputs to each of its outputs."""
    from openlineage.client.event_v2 import DatasetEvent, Job, JobEvent, StaticDataset
    from openlineage.client.facet_v2 import schema_dataset

    dbt = "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/dbt"
    schema = schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name="id", type="INTEGER")]
    )
    dataset_event = DatasetEvent(
        eventTime="2024-10-15T10:00:00+00:00",
        producer=dbt,
        dataset=StaticDataset(
            namespace="postgres://db:5432", name="analytics.raw.orders", facets={"schema": schema}
        ),
    )
    job_event = JobEvent(
        eventTime="2024-10-15T10:01:00+00:00",
        producer=dbt,
        job=Job(namespace="dbt", name="analytics.orders_daily"),
        inputs=[_dataset("in", "postgres://db:5432", "analytics.raw.orders")],
        outputs=[_dataset("out", "postgres://db:5432", "analytics.mart.orders_daily")],
    )
    events = [_to_dict(dataset_event), _to_dict(job_event)]
    write(sqlite_ws.root / "dbt.json", json.dumps(events))
    out = cli("openlineage", "ingest", "dbt.json", "--json", cwd=sqlite_ws.root)
    assert out.json() == {"ingested": 2, "rejected": []}, out.stderr
    raw = "dataset:postgres://db:5432/analytics.raw.orders"
    mart = "dataset:postgres://db:5432/analytics.mart.orders_daily"
    down = cli("lineage", raw, "--downstream", "--json", cwd=sqlite_ws.root).json()
    assert {(e["src"], e["dst"], e["kind"]) for e in down["edges"]} == {(raw, mart, "job")}
    assert sqlite_ws.lineage.runs() == []


def _spark_with_facets(**facets: Any) -> Any:
    """A Spark COMPLETE event whose output carries ``facets`` (raw JSON, as read from a file)."""
    event = _spark_event(
        "0192f0a4-7c2e-7a3b-9c1d-2e3f4a5b6c80",
        "COMPLETE",
        [],
        [_dataset("out", "s3://lake", "gold/delay_by_weather", "3")],
    )
    event["outputs"][0]["outputFacets"] = facets
    return event


def test_an_invalid_facet_is_refused_naming_the_event_and_the_facet(
    sqlite_ws: Workspace, cli: Cli
) -> None:
    base = {
        "_producer": "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/spark",
        "_schemaURL": "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json",
    }  # fmt: skip
    good = _spark_with_facets(outputStatistics={**base, "rowCount": 12, "size": 4096})
    bad = _spark_with_facets(outputStatistics={**base, "rowCount": "twelve"})
    lines = "".join(json.dumps(e) + "\n" for e in (good, bad))
    write(sqlite_ws.root / "events.jsonl", lines)
    out = cli("openlineage", "ingest", "events.jsonl", cwd=sqlite_ws.root)
    assert out.code == 2 and "ingested 1 events" in out.stdout
    [line] = out.stderr.splitlines()
    facet = "outputs[0].outputFacets.outputStatistics"
    assert line.startswith(f"rejected event 2: invalid facet {facet}"), line
    assert "rowCount" in line and "'twelve' is not of type 'integer'" in line


def test_a_custom_facet_with_no_schema_shipped_is_accepted(sqlite_ws: Workspace) -> None:
    event = _spark_event("0192f0a4-7c2e-7a3b-9c1d-2e3f4a5b6c81", "COMPLETE", [], [])
    event["run"]["facets"] = {
        "spark_properties": {
            "_producer": "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/spark",
            "_schemaURL": "https://openlineage.io/spark/facets/SparkPropertiesFacet.json",
            "properties": {"spark.app.name": "aggregate_deliveries"},
        }
    }
    write(sqlite_ws.root / "e.json", json.dumps(event))
    assert sqlite_ws.lineage.ingest(sqlite_ws.root / "e.json").to_dict() == {
        "ingested": 1,
        "rejected": [],
    }


AIRFLOW = "https://github.com/apache/airflow/tree/providers-openlineage/1.9.0"
DAG_RUN = "0192f0a4-7c2e-7a3b-9c1d-000000000001"
TASK_RUN = "0192f0a4-7c2e-7a3b-9c1d-000000000002"


def _airflow_event(event_type: str, run_id: str, name: str, parent: bool, outputs: Any) -> Any:
    """An event as the Airflow provider sends it: the DAG run's, or a task run's naming its
    DAG run in the parent facet, with Airflow's own (custom) facet."""
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import parent_run, processing_engine_run

    facets: dict[str, Any] = {
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version="2.9.2", name="Airflow", openlineageAdapterVersion="1.9.0", producer=AIRFLOW
        )
    }
    if parent:
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=DAG_RUN),
            job=parent_run.Job(namespace="airflow-prod", name="daily_deliveries"),
            producer=AIRFLOW,
        )
    event = _to_dict(
        RunEvent(
            eventType=RunState(event_type),
            eventTime="2024-10-15T10:00:00+00:00",
            run=Run(runId=run_id, facets=facets),
            job=Job(namespace="airflow-prod", name=name),
            producer=AIRFLOW,
            outputs=outputs,
        )
    )
    event["run"]["facets"]["airflow"] = {
        "_producer": AIRFLOW,
        "_schemaURL": "https://raw.githubusercontent.com/apache/airflow/providers-openlineage/1.9.0/airflow/providers/openlineage/facets/AirflowRunFacet.json",
        "dag": {"dag_id": "daily_deliveries"},
        "task": {"task_id": "load_weather"},
    }  # fmt: skip
    return event


def test_an_airflow_task_run_is_linked_to_its_dag_run(sqlite_ws: Workspace, cli: Cli) -> None:
    weather = _dataset("out", "s3://lake", "silver/weather", "5")
    events = [
        _airflow_event("START", DAG_RUN, "daily_deliveries", False, []),
        _airflow_event("COMPLETE", TASK_RUN, "daily_deliveries.load_weather", True, [weather]),
        _airflow_event("COMPLETE", DAG_RUN, "daily_deliveries", False, []),
    ]
    write(sqlite_ws.root / "airflow.jsonl", "".join(json.dumps(e) + "\n" for e in events))
    out = cli("openlineage", "ingest", "airflow.jsonl", "--json", cwd=sqlite_ws.root)
    assert out.json() == {"ingested": 3, "rejected": []}, out.stderr
    from strata.lineage.ids import uuid_to_run_id

    dag_ref, task_ref = (f"run:{uuid_to_run_id(u)}" for u in (DAG_RUN, TASK_RUN))
    shown = cli("run", "show", task_ref, cwd=sqlite_ws.root)
    assert f"parent {dag_ref}" in shown.stdout, shown.stderr
    task = cli("run", "show", task_ref, "--json", cwd=sqlite_ws.root).json()
    assert task["parent"] == dag_ref and task["outputs"] == ["dataset:s3://lake/silver/weather@5"]
    dag = cli("run", "show", dag_ref, "--json", cwd=sqlite_ws.root).json()
    assert dag["parent"] is None and dag["inputs"] == [] and dag["outputs"] == []
    chain = cli("provenance", "dataset:s3://lake/silver/weather@5", "--json", cwd=sqlite_ws.root)
    assert [r["ref"] for r in chain.json()["upstream_runs"]] == [dag_ref]
    down = cli("impact", dag_ref, "--json", cwd=sqlite_ws.root).json()
    assert [a["ref"] for a in down["affected"]] == [task_ref, "dataset:s3://lake/silver/weather@5"]


def test_an_iceberg_snapshot_id_in_a_spark_event_links_the_table_version_it_is(
    sqlite_ws: Workspace,
) -> None:
    """Spark's Iceberg integration names the snapshot it committed (the ``version`` facet's
    ``datasetVersion`` is the snapshot id): the run wrote that version, not the newest one,
    and a snapshot the table does not keep links no version at all."""
    import pyarrow as pa

    ws = sqlite_ws
    table = ws.tables.create("scores", data=pa.table({"id": [1]}), format="iceberg")
    for more in ([2], [3]):
        ws.table("scores").append(pa.table({"id": more}))
    snapshots = {
        s.sequence_number: s.snapshot_id for s in ws.tables.open("scores").iceberg().snapshots()
    }
    assert sorted(snapshots) == [1, 2, 3]
    unknown = max(snapshots.values()) + 1
    for run_id, snapshot in (
        ("0192f0a4-7c2e-7a3b-9c1d-2e3f4a5b6c80", snapshots[2]),
        ("0192f0a4-7c2e-7a3b-9c1d-2e3f4a5b6c81", unknown),
    ):
        event = _spark_event(
            run_id, "COMPLETE", [], [_dataset("out", "file", table.location, str(snapshot))]
        )
        write(ws.root / "e.json", json.dumps(event))
        assert ws.lineage.ingest(ws.root / "e.json").ingested == 1
    linked, unlinked = sorted(ws.lineage.runs(), key=lambda r: r.id)
    assert linked.outputs == ("table:scores@2",)
    assert unlinked.outputs == (f"dataset:{dataset_name('file', table.location)}@{unknown}",)
