"""``POST /api/v1/lineage`` on a real ``strata server``: the ``openlineage-python`` HTTP
transport (gzip, api key), real integrations' events, each bad input, permissions, order and
repetition of events. One server for the module; each test uses its own job names."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from openlineage_events import dataset, integration_events, run_event
from server_support import Server, Site, make_site, served
from strata.refs import dataset_name

API = "/api/v1"
GOLD = ("s3://lake", "gold/delay_by_weather")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The test site, and dee: a viewer who may write table:deliveries only."""
    site = make_site(tmp_path_factory.mktemp("openlineage") / "ws", None)
    with site.workspace() as ws:
        ws.users.add("dee", "viewer", by="tests")
        ws.users.grant("dee", "table:deliveries", "editor", by="tests")
        site.tokens["dee"] = ws.users.create_token("dee")[1]
    return site


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    yield from served(site)


@pytest.fixture(scope="module")
def location(site: Site) -> str:
    """Where the deliveries table is stored."""
    with site.workspace() as ws:
        return ws.tables.open("deliveries").location


def _post(server: Server, token: str, event: Any) -> Any:
    with server.client(token) as client:
        return client.post(f"{API}/lineage", json=event)


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["error"]["message"]
    assert "Traceback" not in message and "\n" not in message
    return message


def _job_known(server: Server, token: str, namespace: str, job: str) -> bool:
    with server.client(token) as client:
        answer = client.get(f"{API}/namespaces/{namespace}/jobs/{job}")
    assert answer.status_code in (200, 404), answer.text
    return answer.status_code == 200


def test_the_client_posts_gzip_with_its_api_key_and_a_spark_job_joins_the_table(
    server: Server, site: Site, location: str
) -> None:
    """openlineage-python's client and HTTP transport (gzip, api key) report a Spark job that
    wrote the deliveries table's folder as Delta version 0: the job is upstream of
    table:deliveries@0, next to the dataset it read."""
    import requests
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import (
        InputDataset,
        Job,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
    )
    from openlineage.client.facet_v2 import dataset_version_dataset
    from openlineage.client.transport.http import (
        ApiKeyTokenProvider,
        HttpCompression,
        HttpConfig,
        HttpTransport,
    )

    answers: list[requests.Response] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: answers.append(response))
    config = HttpConfig(
        url=server.url,
        auth=ApiKeyTokenProvider({"apiKey": site.tokens["cy"]}),
        compression=HttpCompression.GZIP,
        session=session,
        retry={"total": 0},
    )
    client = OpenLineageClient(transport=HttpTransport(config))
    run_id = str(uuid.uuid4())
    version = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion="0")
    for state, when in ((RunState.START, "10:00"), (RunState.COMPLETE, "10:05")):
        client.emit(
            RunEvent(
                eventType=state,
                eventTime=f"2024-10-15T{when}:00+00:00",
                run=Run(runId=run_id),
                job=Job(namespace="spark-cluster", name="load_deliveries"),
                producer="https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/spark",
                inputs=[InputDataset(namespace=GOLD[0], name=GOLD[1])],
                outputs=[OutputDataset("file", location + "/", facets={"version": version})],
            )
        )
    client.close()
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert {a.request.headers["Content-Encoding"] for a in answers} == {"gzip"}
    assert {a.request.headers["Authorization"] for a in answers} == {f"Bearer {site.tokens['cy']}"}
    with server.client(site.tokens["bo"]) as reader:
        up = reader.get(f"{API}/lineage/table:deliveries@0", params={"direction": "up"}).json()
    run_ref = "run:" + _run_ref(run_id)
    edges = {(e["src"], e["dst"], e["kind"]) for e in up["edges"]}
    assert (run_ref, "table:deliveries@0", "output") in edges
    assert ("dataset:s3://lake/gold/delay_by_weather", run_ref, "input") in edges


def _run_ref(run_uuid: str) -> str:
    from strata.lineage.ids import uuid_to_run_id

    return uuid_to_run_id(run_uuid)


@pytest.mark.parametrize("integration", ["spark", "airflow", "dbt", "flink"])
def test_integration_events_are_taken(server: Server, site: Site, integration: str) -> None:
    """Each integration's own events, replayed over HTTP, are stored: their job is known, and
    every dataset they name is a ``dataset:NAMESPACE/NAME`` node of its run."""
    events = integration_events(integration)
    for event in events:
        answer = _post(server, site.tokens["cy"], event)
        assert answer.status_code == 201, answer.text
    last = events[-1]
    assert _job_known(server, site.tokens["bo"], last["job"]["namespace"], last["job"]["name"])
    run = answer.json()["run"]
    with server.client(site.tokens["bo"]) as reader:
        graph = reader.get(f"{API}/lineage/{run}").json()
    refs = {n["ref"] for n in graph["nodes"]}
    for item in [*last["inputs"], *last["outputs"]]:
        assert f"dataset:{dataset_name(item['namespace'], item['name'])}" in refs, refs


def test_dataset_and_job_events_are_taken(server: Server, site: Site) -> None:
    producer = "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/dbt"
    orders = {"namespace": "postgres://db:5432", "name": "raw.orders"}
    daily = {"namespace": "postgres://db:5432", "name": "mart.orders_daily"}
    common = {"eventTime": "2024-10-15T10:00:00+00:00", "producer": producer}
    spec = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/"
    dataset_event = {**common, "dataset": orders, "schemaURL": spec + "DatasetEvent"}
    job_event = {
        **common,
        "schemaURL": spec + "JobEvent",
        "job": {"namespace": "dbt", "name": "orders_daily"},
        "inputs": [orders],
        "outputs": [daily],
    }
    for event, kind in ((dataset_event, "DatasetEvent"), (job_event, "JobEvent")):
        answer = _post(server, site.tokens["cy"], event)
        assert answer.status_code == 201 and answer.json()["kind"] == kind, answer.text
    with server.client(site.tokens["bo"]) as reader:
        down = reader.get(f"{API}/lineage/dataset:postgres://db:5432/raw.orders").json()
    edges = {(e["src"], e["dst"]) for e in down["edges"]}
    assert edges == {
        ("dataset:postgres://db:5432/raw.orders", "dataset:postgres://db:5432/mart.orders_daily")
    }


def _bad(job: str, **changes: Any) -> dict[str, Any]:
    event = run_event(
        "START", str(uuid.uuid4()), job=job, namespace="bad", outputs=[dataset(*GOLD)]
    )
    event.update(changes)
    return event


@pytest.mark.parametrize(
    ("case", "event", "reason"),
    [
        ("wrong types", _bad("types", run={"runId": 5}), "invalid RunEvent at run/runId"),
        ("missing runId", _bad("no-run-id", run={}), "'runId' is a required property"),
        ("run id not a UUID", _bad("not-uuid", run={"runId": "run-1"}), "is not a UUID"),
        ("missing job", {k: v for k, v in _bad("x").items() if k != "job"}, "'job' is a required"),
        ("unknown event type", _bad("unknown-type", eventType="EXPLODED"), "eventType"),
        ("time without offset", _bad("no-offset", eventTime="2024-10-15T10:00:00"), "UTC offset"),
        ("not an event", {"hello": "world"}, "not an OpenLineage event"),
        ("not an object", [1, 2], "not a JSON object"),
        (
            "bad facet",
            _bad(
                "bad-facet",
                outputs=[
                    {
                        **dataset(*GOLD, "1"),
                        "facets": {"version": {"_producer": "x", "_schemaURL": "y"}},
                    }
                ],
            ),
            "invalid facet outputs[0].facets.version",
        ),
    ],
)
def test_an_invalid_event_is_a_400_with_the_reason_and_stores_nothing(
    server: Server, site: Site, case: str, event: Any, reason: str
) -> None:
    message = _error(_post(server, site.tokens["cy"], event), 400)
    assert reason in message, (case, message)
    job = event.get("job", {}).get("name") if isinstance(event, dict) else None
    if job is not None:
        assert not _job_known(server, site.tokens["cy"], "bad", job)


@pytest.mark.parametrize(
    ("body", "headers", "status", "reason"),
    [
        (b"{not json", {}, 400, "malformed JSON"),
        (b"\xff\xfe{}", {}, 400, "not UTF-8"),
        (b"[" * 300 + b"]" * 300, {}, 400, "nested 300 levels deep"),
        (b"this is not gzip", {"Content-Encoding": "gzip"}, 400, "not valid gzip"),
        (gzip.compress(b'{"a": 1}')[:-12], {"Content-Encoding": "gzip"}, 400, "ends before"),
        (gzip.compress(b"{}") + b"extra", {"Content-Encoding": "gzip"}, 400, "bytes follow"),
        (b"{}", {"Content-Encoding": "br"}, 400, "'br' is not taken"),
        (
            gzip.compress(b" " * (16 * 1024 * 1024 + 1)),
            {"Content-Encoding": "gzip"},
            413,
            "decompressed",
        ),
        (b" " * (16 * 1024 * 1024 + 1), {}, 413, "over the limit"),
    ],
    ids=["json", "utf8", "deep", "gzip", "truncated", "trailing", "encoding", "bomb", "large"],
)
def test_a_body_that_is_no_event_is_refused(
    server: Server, site: Site, body: bytes, headers: dict[str, str], status: int, reason: str
) -> None:
    with server.client(site.tokens["cy"]) as client:
        answer = client.post(f"{API}/lineage", content=body, headers=headers)
    assert reason in _error(answer, status)


def test_a_gzip_body_is_taken(server: Server, site: Site) -> None:
    event = run_event("COMPLETE", str(uuid.uuid4()), job="gzipped", outputs=[dataset(*GOLD)])
    body = gzip.compress(json.dumps(event).encode())
    with server.client(site.tokens["cy"]) as client:
        answer = client.post(f"{API}/lineage", content=body, headers={"Content-Encoding": "gzip"})
    assert answer.status_code == 201, answer.text
    assert _job_known(server, site.tokens["bo"], "spark-cluster", "gzipped")


def _run(server: Server, token: str, run_id: str) -> dict[str, Any]:
    with server.client(token) as client:
        answer = client.get(f"{API}/jobs/runs/{run_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_a_run_that_never_started_and_events_out_of_order(server: Server, site: Site) -> None:
    """A COMPLETE with no START records an ended run; a START after its COMPLETE moves the
    start back and leaves the run ended."""
    token = site.tokens["cy"]
    lone = str(uuid.uuid4())
    assert _post(server, token, run_event("COMPLETE", lone, job="lone")).status_code == 201
    assert _run(server, token, lone)["state"] == "COMPLETED"

    late = str(uuid.uuid4())
    end = run_event("COMPLETE", late, job="late", when="2024-10-15T11:00:00+00:00")
    start = run_event("START", late, job="late", when="2024-10-15T10:00:00+00:00")
    for event in (end, start):
        assert _post(server, token, event).status_code == 201
    run = _run(server, token, late)
    assert run["state"] == "COMPLETED"
    assert (run["startedAt"], run["endedAt"]) == (
        "2024-10-15T10:00:00+00:00",
        "2024-10-15T11:00:00+00:00",
    )
    assert run["durationMs"] == 3_600_000


def test_the_same_event_twice_changes_nothing(server: Server, site: Site) -> None:
    token = site.tokens["cy"]
    run_id = str(uuid.uuid4())
    event = run_event(
        "COMPLETE",
        run_id,
        job="twice",
        inputs=[dataset("s3://raw", "events")],
        outputs=[dataset(*GOLD, "7")],
    )

    def state() -> Any:
        with server.client(token) as client:
            run = _run(server, token, run_id)
            graph = client.get(
                f"{API}/lineage", params={"nodeId": "job:spark-cluster:twice"}
            ).json()
            runs = client.get(f"{API}/namespaces/spark-cluster/jobs/twice/runs").json()
        return run, graph, runs

    assert _post(server, token, event).status_code == 201
    first = state()
    assert _post(server, token, event).status_code == 201
    assert state() == first
    assert len(first[2]["runs"]) == 1


def test_posting_needs_a_token_and_an_editor(server: Server, site: Site) -> None:
    event = run_event(
        "START", str(uuid.uuid4()), job="refused", namespace="auth", outputs=[dataset(*GOLD)]
    )
    with server.client() as anonymous:
        answer = anonymous.post(f"{API}/lineage", json=event)
    assert "no token" in _error(answer, 401)
    assert "write" in _error(_post(server, site.tokens["bo"], event), 403)
    assert not _job_known(server, site.tokens["bo"], "auth", "refused")


def test_a_grant_on_one_table_lets_a_job_report_writing_that_table_only(
    server: Server, site: Site, location: str
) -> None:
    """dee (a viewer, editor on table:deliveries) may post that a job wrote the deliveries
    table; not that it wrote another dataset, even alongside it, nor a run writing nothing."""
    token = site.tokens["dee"]
    table = dataset("file", location, version="0")
    ok = run_event("COMPLETE", str(uuid.uuid4()), job="dee-ok", namespace="grants", outputs=[table])
    assert _post(server, token, ok).status_code == 201
    assert _job_known(server, token, "grants", "dee-ok")

    both = run_event(
        "COMPLETE",
        str(uuid.uuid4()),
        job="dee-both",
        namespace="grants",
        outputs=[table, dataset(*GOLD)],
    )
    message = _error(_post(server, token, both), 403)
    assert "dataset:s3://lake/gold/delay_by_weather" in message
    nothing = run_event(
        "START", str(uuid.uuid4()), job="dee-none", namespace="grants", inputs=[table]
    )
    assert "write lineage" in _error(_post(server, token, nothing), 403)
    assert not _job_known(server, token, "grants", "dee-both")
    assert not _job_known(server, token, "grants", "dee-none")


def test_post_and_both_reads_of_lineage_have_their_own_routes(server: Server, site: Site) -> None:
    """POST /lineage (events), GET /lineage?nodeId= (Marquez's graph) and GET
    /lineage/{ref} (Strata's own graph) each reach their own handler."""
    run_id = str(uuid.uuid4())
    event = run_event(
        "COMPLETE",
        run_id,
        job="routes",
        namespace="routes",
        outputs=[dataset("s3://routes", "out")],
    )
    assert _post(server, site.tokens["cy"], event).json()["kind"] == "RunEvent"
    with server.client(site.tokens["bo"]) as client:
        marquez = client.get(f"{API}/lineage", params={"nodeId": "job:routes:routes"}).json()
        own = client.get(f"{API}/lineage/dataset:s3://routes/out").json()
        assert client.get(f"{API}/lineage").status_code == 400  # Marquez's needs nodeId
        described = client.get("/openapi.json").json()["paths"]
    assert {"post", "get"} <= described[f"{API}/lineage"].keys()
    assert f"{API}/lineage/{{ref}}" in described
    ids = {n["id"] for n in marquez["graph"]}
    assert ids == {"job:routes:routes", "dataset:s3://routes:out"}
    assert own["roots"] == ["dataset:s3://routes/out"]


def test_events_of_one_run_posted_at_once_make_one_run(server: Server, site: Site) -> None:
    """Many events of a new run, posted concurrently (its START racing its COMPLETE): every
    one is taken, and they make one run, ended."""
    run_id = str(uuid.uuid4())
    events = [
        run_event(kind, run_id, job="racing", namespace="race", when=f"2024-10-15T10:0{i}:00+00:00",
                  outputs=[dataset("s3://race", f"part-{i}")])
        for i, kind in enumerate(["START", "RUNNING", "RUNNING", "RUNNING", "COMPLETE"] * 2)
    ]  # fmt: skip
    with ThreadPoolExecutor(len(events)) as pool:
        answers = list(pool.map(lambda e: _post(server, site.tokens["cy"], e), events))
    assert [a.status_code for a in answers] == [201] * len(events), [a.text for a in answers]
    run = _run(server, site.tokens["bo"], run_id)
    assert run["state"] == "COMPLETED"
    assert len(run["outputVersions"]) == 10
    with server.client(site.tokens["bo"]) as client:
        runs = client.get(f"{API}/namespaces/race/jobs/racing/runs").json()["runs"]
    assert [r["id"] for r in runs] == [run_id]


def test_impact_of_a_column_the_events_traced(server: Server, site: Site, location: str) -> None:
    """A Spark job's columnLineage says gold.delay_avg came from deliveries.delay_min: the
    impact of table:deliveries@0#delay_min names gold, and that of #id names nothing."""
    gold = dataset("s3://lake", "gold/by_column", "5")
    gold["facets"]["columnLineage"] = {
        "_producer": "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/spark",
        "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json",
        "fields": {
            "delay_avg": {
                "inputFields": [{"namespace": "file", "name": location, "field": "delay"}]
            }
        },
    }
    table = dataset("file", location, version="0")
    event = run_event(
        "COMPLETE", str(uuid.uuid4()), job="by_column", inputs=[table], outputs=[gold]
    )
    assert _post(server, site.tokens["cy"], event).status_code == 201
    with server.client(site.tokens["bo"]) as client:
        found = client.get(f"{API}/impact/table:deliveries@0%23delay")
        missing = client.get(f"{API}/impact/table:deliveries@0%23id")
    assert found.status_code == 200, found.text
    [item] = [a for a in found.json()["affected"] if a["kind"] == "dataset"]
    assert (item["ref"], item["columns"]) == ("dataset:s3://lake/gold/by_column@5", ["delay_avg"])
    assert "columnLineage names column 'id'" in _error(missing, 400)
