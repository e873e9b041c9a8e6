"""OpenLineage events from other tools, ingested: the shapes files come in, dataset refs, and
how they join Strata's own tables."""

from __future__ import annotations

import json
from typing import Any

import pytest

from factories import Cli, assert_one_line_error, write
from strata import Workspace


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
