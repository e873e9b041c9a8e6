"""The lineage graph by name (``strata.lineage.named``): datasets and jobs as Marquez shows
them, Strata's own things in the lineage's namespace, node ids with ``:`` in namespaces."""

from __future__ import annotations

import uuid

import pytest

from openlineage_events import dataset, run_event
from strata import Workspace
from strata.lineage.ids import uuid_to_run_id
from strata.lineage.named import Node, dataset_of, parse_node_id, ref_parts


@pytest.mark.parametrize(
    ("ref", "node"),
    [
        ("table:deliveries@4", Node("DATASET", "strata", "table:deliveries")),
        ("model:clf@3", Node("DATASET", "strata", "model:clf")),
        ("dataset:s3://lake/gold/x@2", Node("DATASET", "s3://lake", "gold/x")),
        ("dataset:s3://lake%2Fgold/x", Node("DATASET", "s3://lake/gold", "x")),
        ("dataset:file//data/x", Node("DATASET", "file", "/data/x")),
        ("run:01JD5Z3W7Q0000000000000000", None),
        ("deployment:abc", None),
    ],
)
def test_a_ref_is_a_version_of_one_dataset(ref: str, node: Node | None) -> None:
    assert dataset_of(ref, "strata") == node
    if node is not None:
        kind, name = ref_parts(node, "strata")
        assert ref.startswith(f"{kind}:{name}")


def _post(ws: Workspace, *events: dict[str, object]) -> None:
    for event in events:
        ws.lineage.record_event(ws.lineage.check_event(event))


def test_datasets_jobs_and_graph_by_name(lws: Workspace) -> None:
    """On SQLite and PostgreSQL."""
    ws = lws
    db = "postgres://db:5432"
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    _post(
        ws,
        run_event("COMPLETE", first, job="load", inputs=[dataset(db, "raw.a")],
                  outputs=[dataset("s3://lake", "mid", "1")]),
        run_event("COMPLETE", second, job="load", when="2024-10-16T10:00:00+00:00",
                  inputs=[dataset(db, "raw.a")], outputs=[dataset("s3://lake", "mid", "2")]),
        run_event("COMPLETE", str(uuid.uuid4()), job="publish", namespace="airflow",
                  inputs=[dataset("s3://lake", "mid", "2")], outputs=[dataset(db, "mart.b")]),
    )  # fmt: skip
    view = ws.lineage.named()
    assert set(view.namespaces()) == {"strata", db, "s3://lake", "spark-cluster", "airflow"}
    mid = view.dataset("s3://lake", "mid")
    assert mid is not None and mid.versions == ("1", "2") and mid.ref == "dataset:s3://lake/mid"
    assert [d.node.name for d in view.datasets(db)] == ["mart.b", "raw.a"]
    [load] = view.jobs("spark-cluster")
    assert load.run_count == 2
    detail = view.job("spark-cluster", "load")
    assert detail is not None and detail.latest is not None
    assert detail.latest.id == uuid_to_run_id(second)  # the newer of the two
    assert [r.id for r in view.runs("spark-cluster", "load")] == [
        uuid_to_run_id(second),
        uuid_to_run_id(first),
    ]
    assert detail.inputs == (Node("DATASET", db, "raw.a"),)

    graph = view.graph(Node("DATASET", db, "raw.a"), depth=5)
    assert graph is not None
    assert graph.edges == {
        (Node("DATASET", db, "raw.a"), Node("JOB", "spark-cluster", "load")),
        (Node("JOB", "spark-cluster", "load"), Node("DATASET", "s3://lake", "mid")),
        (Node("DATASET", "s3://lake", "mid"), Node("JOB", "airflow", "publish")),
        (Node("JOB", "airflow", "publish"), Node("DATASET", db, "mart.b")),
    }
    assert view.graph(Node("DATASET", db, "nothing"), depth=5) is None

    assert parse_node_id(f"dataset:{db}:raw.a", view) == Node("DATASET", db, "raw.a")
    assert parse_node_id("job:airflow:publish", view) == Node("JOB", "airflow", "publish")
    assert parse_node_id("job:airflow:nothing", view) is None
    assert parse_node_id("table:deliveries", view) is None
    assert [n.name for n, _ in view.search("RAW%")] == ["raw.a"]
