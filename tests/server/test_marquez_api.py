"""Marquez's read API on a real ``strata server``: Airflow and Spark events posted over HTTP
and Strata's own table, model and run read back as Marquez's namespaces, datasets, jobs, runs,
lineage graph and search, in one graph.

The graph: s3://testbucket/testfile -> Airflow's s3copy task -> testfile2 -> a Spark job ->
the deliveries table's folder (table:deliveries@0) -> Strata's run "train" -> model:clf@1."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from openlineage_events import dataset, integration_events, run_event
from server_support import Server, Site, make_site, start_server

API = "/api/v1"
BUCKET = "s3:%2F%2Ftestbucket"  # s3://testbucket, as Marquez's clients put it in a path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = make_site(tmp_path_factory.mktemp("marquez") / "ws", None)
    with site.workspace() as ws, ws.run("train", inputs=["table:deliveries@0"]) as run:
        run.output("model:clf@1")
    return site


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    running = start_server(site.root, site.env)
    with site.workspace() as ws:
        location = ws.tables.open("deliveries").location
    spark = str(uuid.uuid4())
    events = [
        *integration_events("airflow"),
        run_event(
            "COMPLETE", spark, job="enrich", when="2024-10-15T11:00:00+00:00",
            inputs=[dataset("s3://testbucket", "testfile2")],
            outputs=[dataset("file", location, "0"), dataset("s3://lake", "gold/by_weather")],
        ),
    ]  # fmt: skip
    with running.client(site.tokens["cy"]) as client:
        for event in events:
            assert client.post(f"{API}/lineage", json=event).status_code == 201
    yield running
    assert running.stop() == 0, running.log_text()


@pytest.fixture(scope="module")
def reader(server: Server, site: Site) -> Iterator[Any]:
    with server.client(site.tokens["bo"]) as client:  # a viewer
        yield client


def _get(reader: Any, path: str, **params: Any) -> Any:
    answer = reader.get(f"{API}{path}", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_namespaces_hold_both_worlds(reader: Any) -> None:
    names = {n["name"] for n in _get(reader, "/namespaces")["namespaces"]}
    assert names == {"strata", "default", "spark-cluster", "s3://testbucket", "s3://lake"}
    found = _get(reader, f"/namespaces/{BUCKET}")
    assert found["name"] == "s3://testbucket" and found["createdAt"] is not None


def test_datasets_of_a_namespace_and_one_with_a_slash_in_its_name(reader: Any) -> None:
    listed = _get(reader, f"/namespaces/{BUCKET}/datasets")
    assert [d["name"] for d in listed["datasets"]] == ["testfile", "testfile2"]
    assert listed["totalCount"] == 2
    gold = _get(reader, "/namespaces/s3:%2F%2Flake/datasets/gold%2Fby_weather")
    assert (gold["namespace"], gold["name"]) == ("s3://lake", "gold/by_weather")
    assert gold["id"] == {"namespace": "s3://lake", "name": "gold/by_weather"}
    own = _get(reader, "/namespaces/strata/datasets")["datasets"]
    assert {d["name"]: d["currentVersion"] for d in own} == {
        "table:deliveries": "0",
        "model:clf": "3",
    }
    assert _get(reader, "/namespaces/strata/datasets/table:deliveries")["ref"] == "table:deliveries"


def test_jobs_runs_and_one_run(reader: Any) -> None:
    [job] = _get(reader, "/namespaces/default/jobs")["jobs"]
    assert job["name"] == "s3copy_dag.s3copy_task"
    assert job["inputs"] == [{"namespace": "s3://testbucket", "name": "testfile"}]
    assert job["outputs"] == [{"namespace": "s3://testbucket", "name": "testfile2"}]
    assert job["latestRun"]["state"] == "COMPLETED"
    [run] = _get(reader, "/namespaces/default/jobs/s3copy_dag.s3copy_task/runs")["runs"]
    assert run["id"] == job["latestRun"]["id"]
    assert run["outputVersions"] == [
        {"namespace": "s3://testbucket", "name": "testfile2", "version": None}
    ]
    assert _get(reader, f"/jobs/runs/{run['id']}")["state"] == "COMPLETED"
    train = _get(reader, "/namespaces/strata/jobs/train")
    assert train["inputs"] == [{"namespace": "strata", "name": "table:deliveries"}]
    assert train["outputs"] == [{"namespace": "strata", "name": "model:clf"}]


def test_the_lineage_graph_joins_events_to_strata_s_own_things(reader: Any) -> None:
    graph = _get(reader, "/lineage", nodeId="dataset:s3://testbucket:testfile", depth=10)["graph"]
    nodes = {n["id"]: n for n in graph}
    assert set(nodes) == {
        "dataset:s3://testbucket:testfile",
        "job:default:s3copy_dag.s3copy_task",
        "dataset:s3://testbucket:testfile2",
        "job:spark-cluster:enrich",
        "dataset:strata:table:deliveries",
        "dataset:s3://lake:gold/by_weather",
        "job:strata:train",
        "dataset:strata:model:clf",
    }
    for node in graph:
        data = node["data"]
        assert node["id"] == f"{node['type'].lower()}:{data['namespace']}:{data['name']}"
        for edge in node["outEdges"]:
            assert edge in nodes[edge["destination"]]["inEdges"]
    table = nodes["dataset:strata:table:deliveries"]
    assert {e["origin"] for e in table["inEdges"]} == {"job:spark-cluster:enrich"}
    assert {e["destination"] for e in table["outEdges"]} == {
        "job:strata:train",
        "dataset:strata:model:clf",  # trained on it, as the registry recorded
    }
    assert nodes["job:strata:train"]["data"]["latestRun"]["state"] == "COMPLETED"


def test_depth_counts_jobs(reader: Any) -> None:
    graph = _get(reader, "/lineage", nodeId="dataset:s3://testbucket:testfile", depth=1)["graph"]
    assert {n["id"] for n in graph} == {
        "dataset:s3://testbucket:testfile",
        "job:default:s3copy_dag.s3copy_task",
        "dataset:s3://testbucket:testfile2",
    }
    job = _get(reader, "/lineage", nodeId="job:spark-cluster:enrich", depth=1)["graph"]
    assert {n["id"] for n in job} == {  # the jobs one dataset away, and those datasets
        "job:spark-cluster:enrich",
        "dataset:s3://testbucket:testfile2",
        "job:default:s3copy_dag.s3copy_task",
        "dataset:strata:table:deliveries",
        "dataset:s3://lake:gold/by_weather",
        "job:strata:train",
        "dataset:strata:model:clf",  # trained on the table: no job between them
    }


def test_search(reader: Any) -> None:
    found = _get(reader, "/search", q="TESTFILE")
    assert [r["nodeId"] for r in found["results"]] == [
        "dataset:s3://testbucket:testfile",
        "dataset:s3://testbucket:testfile2",
    ]
    jobs = _get(reader, "/search", q="s3copy%task", filter="job")["results"]
    assert [r["nodeId"] for r in jobs] == ["job:default:s3copy_dag.s3copy_task"]
    one = _get(reader, "/search", q="testfile_", sort="updated_at")
    assert [r["name"] for r in one["results"]] == ["testfile2"]
    assert _get(reader, "/search", q="no-such-thing") == {"totalCount": 0, "results": []}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/namespaces/nowhere", 404),
        (f"/namespaces/{BUCKET}/datasets/nothing", 404),
        ("/namespaces/default/jobs/nothing", 404),
        ("/namespaces/default/jobs/nothing/runs", 404),
        ("/jobs/runs/5e58a95c-1c71-4231-8984-ac172d5566cf", 404),
        ("/jobs/runs/not-a-uuid", 400),
        ("/lineage?nodeId=dataset:nowhere:nothing", 404),
        ("/lineage?nodeId=table:deliveries", 404),
        ("/lineage?nodeId=job:default:s3copy_dag.s3copy_task&depth=-1", 400),
        ("/search", 400),
    ],
)
def test_what_is_not_there_or_malformed(reader: Any, path: str, status: int) -> None:
    answer = reader.get(f"{API}{path}")
    assert answer.status_code == status, answer.text
    assert "\n" not in answer.json()["error"]["message"]


def test_reading_needs_a_token(server: Server) -> None:
    with server.client() as anonymous:
        for path in ("/namespaces", "/search?q=a", "/lineage?nodeId=job:default:x"):
            assert anonymous.get(f"{API}{path}").status_code == 401
