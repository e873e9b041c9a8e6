"""OpenLineage: events out (built with openlineage-python, validated against the official JSON
Schema), the parent of a nested run, transports (console, file, HTTP to a real server on
loopback), queueing when the endpoint is down, configuration, and ingest."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from factories import Cli, assert_one_line_error, run_strata, snapshot, write
from lineage_support import FakeDescriber, row_counts, spec_dir, wire
from strata import Workspace
from strata.errors import ConfigError, LineageEndpointError
from strata.lineage.ids import run_id_to_uuid

SPEC_ID = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
DELIVERIES = {
    "table:deliveries@47": {
        "row_count": 1200,
        "schema_fields": [{"name": "id", "type": "int64"}, {"name": "delay", "type": "double"}],
        "column_metrics": {"delay": {"nullCount": 0, "min": 0.0, "max": 90.0}},
    },
    "table:scores@3": {
        "row_count": 40,
        "size_bytes": 2048,
        "file_count": 1,
        "schema_fields": [{"name": "id", "type": "int64"}, {"name": "score", "type": "double"}],
    },
}
# Facets the OpenLineage client adds itself whose schema is not among the official copies in
# spec/ (``tags`` names the client's version): their shape is checked here instead.
CLIENT_FACETS = {"tags": "https://openlineage.io/spec/facets/1-0-0/TagsRunFacet.json"}


def _registry() -> Registry:
    resources = []
    for path in [spec_dir() / "OpenLineage.json", *sorted((spec_dir() / "facets").glob("*"))]:
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)  # type: ignore[no-any-return]


def _validate(event: dict[str, Any]) -> int:
    """Validate a RunEvent and each facet against its own schema; how many facets."""
    registry = _registry()
    jsonschema.Draft202012Validator(
        {"$ref": f"{SPEC_ID}#/$defs/RunEvent"}, registry=registry
    ).validate(event)
    run_facets = dict(event["run"]["facets"])
    for name, schema in CLIENT_FACETS.items():
        facet = run_facets.pop(name)
        assert facet["_schemaURL"].startswith(schema + "#")
        assert all({*tag} == {"key", "value", "source"} for tag in facet["tags"])
    facets = [*run_facets.values(), *event["job"]["facets"].values()]
    for item in [*event["inputs"], *event["outputs"]]:
        for kind in ("facets", "inputFacets", "outputFacets"):
            facets += item.get(kind, {}).values()
    for facet in facets:
        validator = jsonschema.Draft202012Validator(
            {"$ref": facet["_schemaURL"]}, registry=registry
        )
        validator.validate(facet)
    return len(facets)


def _configure(ws: Workspace, **settings: str) -> None:
    lines = "".join(f'{key} = "{value}"\n' for key, value in settings.items())
    config = ws.root / ".strata" / "config.toml"
    config.write_text(config.read_text() + "\n[lineage.openlineage]\n" + lines)
    ws.__dict__.pop("lineage", None)
    ws.config = type(ws.config).load(ws.root)


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_event_kind_validates_against_the_official_schema(lws: Workspace) -> None:
    _configure(lws, transport="file", path="ol.jsonl")
    wire(lws, describers=[FakeDescriber(DELIVERIES)], rows_written=lambda name, version: 12)
    with lws.run("train") as run:
        run.input("table:deliveries@47")
        run.input("file:raw.csv")
        run.output("model:clf@1")
        run.output("table:scores@3")
    with pytest.raises(RuntimeError), lws.run("train"):
        raise RuntimeError("out of memory")
    events = _events(lws.root / "ol.jsonl")  # one JSON Lines file, appended to
    assert [e["eventType"] for e in events] == ["START", "COMPLETE", "START", "FAIL"]
    assert sum(_validate(e) for e in events) > 16
    complete = events[1]
    assert complete["job"] == {"namespace": "strata", "name": "train",
                               "facets": complete["job"]["facets"]}  # fmt: skip
    assert complete["run"]["runId"] == run_id_to_uuid(run.id)
    assert complete["producer"].startswith("https://github.com/strata-ml/strata/")
    [table, raw] = complete["inputs"]
    assert table["name"] == "table:deliveries"
    assert table["facets"]["version"]["datasetVersion"] == "47"
    assert [f["name"] for f in table["facets"]["schema"]["fields"]] == ["id", "delay"]
    quality = table["inputFacets"]["dataQualityMetrics"]
    assert quality["rowCount"] == 1200 and quality["columnMetrics"]["delay"]["max"] == 90.0
    raw_version = lws.lineage.run(run.ref).inputs[1].partition("@")[2]
    assert raw["facets"]["version"]["datasetVersion"] == raw_version
    [model, scores] = complete["outputs"]
    assert model["name"] == "model:clf" and model["facets"]["version"]["datasetVersion"] == "1"
    statistics = scores["outputFacets"]["outputStatistics"]
    assert statistics == {**statistics, "rowCount": 12}  # what the commit wrote, not the 40
    engine = complete["run"]["facets"]["processing_engine"]
    assert engine["name"] == "strata" and engine["openlineageAdapterVersion"]
    job_facets = complete["job"]["facets"]
    assert job_facets["jobType"]["integration"] == "STRATA"
    commit = lws.lineage.run(run.ref).environment["git"]["commit"]
    assert job_facets["sourceCodeLocation"]["type"] == "git"
    assert job_facets["sourceCodeLocation"]["version"] == commit
    assert "parent" not in complete["run"]["facets"]
    assert "errorMessage" not in complete["run"]["facets"]
    assert "out of memory" in events[3]["run"]["facets"]["errorMessage"]["message"]


def _parent_of(event: dict[str, Any]) -> tuple[str, str, str] | None:
    parent = event["run"]["facets"].get("parent")
    if parent is None:
        return None
    return parent["run"]["runId"], parent["job"]["namespace"], parent["job"]["name"]


def test_a_run_inside_a_run_names_its_parent(sqlite_ws: Workspace) -> None:
    _configure(sqlite_ws, transport="file", path="ol.jsonl")
    with sqlite_ws.run("pipeline") as outer, sqlite_ws.run("train") as inner:
        inner.output("model:clf@1")
    assert inner.parent_id == outer.id and outer.parent_id is None
    events = _events(sqlite_ws.root / "ol.jsonl")
    assert [(e["job"]["name"], e["eventType"]) for e in events] == [
        ("pipeline", "START"), ("train", "START"), ("train", "COMPLETE"), ("pipeline", "COMPLETE"),
    ]  # fmt: skip
    assert all(_validate(e) for e in events)
    parent = (run_id_to_uuid(outer.id), "strata", "pipeline")
    assert [_parent_of(e) for e in events] == [None, parent, parent, None]
    with sqlite_ws.run("after"):  # the pipeline has ended: no longer anyone's parent
        pass
    assert _parent_of(_events(sqlite_ws.root / "ol.jsonl")[-1]) is None


def test_a_run_started_by_a_child_of_strata_run_names_that_run(
    sqlite_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a Python child of `strata run` does: STRATA_RUN_ID is set, it opens the workspace
    and starts a run of its own."""
    _configure(sqlite_ws, transport="file", path="ol.jsonl")
    outer = sqlite_ws.lineage.start_run("pipeline")
    monkeypatch.setenv("STRATA_RUN_ID", outer.id)
    child = Workspace(sqlite_ws.root)
    with child.run("step") as step:
        pass
    assert step.parent_id == outer.id
    monkeypatch.setenv("STRATA_RUN_ID", "01JD5Z3W7Q0000000000000000")  # names no run
    with Workspace(sqlite_ws.root).run("orphan") as orphan:
        pass
    assert orphan.parent_id is None
    events = _events(sqlite_ws.root / "ol.jsonl")
    assert all(_validate(e) for e in events)
    parent = (run_id_to_uuid(outer.id), "strata", "pipeline")
    assert [(e["job"]["name"], _parent_of(e)) for e in events] == [
        ("pipeline", None), ("step", parent), ("step", parent), ("orphan", None), ("orphan", None),
    ]  # fmt: skip


CHILD_RUN = """
from strata import Workspace
with Workspace(".").run("step") as run:
    run.output("model:clf@1")
"""


@pytest.mark.slow
def test_strata_run_and_a_run_in_its_child_process(sqlite_ws: Workspace) -> None:
    _configure(sqlite_ws, transport="file", path="ol.jsonl")
    out = run_strata(
        "run", "-n", "pipeline", "--", sys.executable, "-c", CHILD_RUN, cwd=sqlite_ws.root
    )
    assert out.code == 0, out.stderr
    events = _events(sqlite_ws.root / "ol.jsonl")
    assert [(e["job"]["name"], e["eventType"]) for e in events] == [
        ("pipeline", "START"), ("step", "START"), ("step", "COMPLETE"), ("pipeline", "COMPLETE"),
    ]  # fmt: skip
    assert all(_validate(e) for e in events)
    pipeline_id = events[0]["run"]["runId"]
    assert [_parent_of(e) for e in events] == [
        None, (pipeline_id, "strata", "pipeline"), (pipeline_id, "strata", "pipeline"), None,
    ]  # fmt: skip


class _Receiver(BaseHTTPRequestHandler):
    """An OpenLineage endpoint: takes events POSTed to ``path`` while ``status`` is 200."""

    received: list[dict[str, Any]]
    status = 200
    path_taken = "/api/v1/lineage"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = type(self).status if self.path == type(self).path_taken else 404
        if status == 200:
            type(self).received.append(json.loads(body))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_http_transport_posts_events_to_a_real_server(
    sqlite_ws: Workspace, endpoint: tuple[str, type[_Receiver]]
) -> None:
    url, handler = endpoint
    _configure(sqlite_ws, transport="http", url=url)
    with sqlite_ws.run("train") as run:
        run.output("model:clf@1")
    assert [e["eventType"] for e in handler.received] == ["START", "COMPLETE"]
    assert handler.received[1]["outputs"][0]["name"] == "model:clf"
    assert all(_validate(e) for e in handler.received)
    assert not (sqlite_ws.root / ".strata" / "openlineage-queue.jsonl").exists()


def test_the_openlineage_keys_are_set_with_strata_config(
    sqlite_ws: Workspace, endpoint: tuple[str, type[_Receiver]], cli: Cli
) -> None:
    url, handler = endpoint
    handler.path_taken = "/marquez/v2/events"  # a URL with a path keeps it
    for key, value in [
        ("transport", "http"), ("url", f"{url}/marquez"), ("endpoint", "v2/events"),
        ("timeout", "2.5"), ("path", "elsewhere.jsonl"), ("namespace", "delivery-team"),
    ]:  # fmt: skip
        key = "lineage.namespace" if key == "namespace" else f"lineage.openlineage.{key}"
        out = cli("config", "set", key, value, cwd=sqlite_ws.root)
        assert out.code == 0, out.stderr
        assert cli("config", "get", key, cwd=sqlite_ws.root).stdout == value + "\n"
    out = cli("run", "-n", "train", "--", "true", cwd=sqlite_ws.root)
    assert out.code == 0, out.stderr
    assert [e["eventType"] for e in handler.received] == ["START", "COMPLETE"]
    assert handler.received[0]["job"]["namespace"] == "delivery-team"


def test_the_openlineage_keys_are_read_from_the_environment(
    sqlite_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRATA_LINEAGE_OPENLINEAGE_TRANSPORT", "file")
    monkeypatch.setenv("STRATA_LINEAGE_OPENLINEAGE_PATH", "from-env.jsonl")
    ws = Workspace(sqlite_ws.root)
    with ws.run("train"):
        pass
    assert [e["eventType"] for e in _events(ws.root / "from-env.jsonl")] == ["START", "COMPLETE"]


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("lineage.openlineage.transport", "kafka", "use one of none, console, file, http"),
        ("lineage.openlineage.url", "ftp://x", "http:// or https://"),
        ("lineage.openlineage.timeout", "0", "seconds"),
        ("lineage.openlineage.timeout", "soon", "seconds"),
        ("lineage.openlineage.colour", "blue", "unknown config key"),
    ],
)
def test_a_bad_openlineage_setting_is_refused_by_strata_config(
    sqlite_ws: Workspace, cli: Cli, key: str, value: str, fragment: str
) -> None:
    before = snapshot(sqlite_ws.root)
    out = cli("config", "set", key, value, cwd=sqlite_ws.root)
    assert_one_line_error(out, ConfigError.exit_code, key, fragment)
    assert snapshot(sqlite_ws.root) == before


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_endpoint_queues_events_and_resends_them_in_order(
    sqlite_ws: Workspace, endpoint: tuple[str, type[_Receiver]], cli: Cli
) -> None:
    url, handler = endpoint
    _configure(sqlite_ws, transport="http", url=f"http://127.0.0.1:{_closed_port()}")
    with sqlite_ws.run("first") as run:  # the run goes on
        run.output("model:clf@1")
    assert sqlite_ws.lineage.run(run.ref).status == "completed"
    queue = sqlite_ws.root / ".strata" / "openlineage-queue.jsonl"
    assert [e["eventType"] for e in _events(queue)] == ["START", "COMPLETE"]
    assert all(_validate(e) for e in _events(queue))
    emitter = sqlite_ws.lineage.emitter
    assert emitter is not None and len(emitter.failures) == 2
    assert "cannot send OpenLineage event to http://127.0.0.1:" in emitter.failures[0]
    handler.status = 503  # up, but failing
    config = sqlite_ws.root / ".strata" / "config.toml"
    config.write_text(config.read_text().replace(
        config.read_text().split('url = "')[1].split('"')[0], url))  # fmt: skip
    sqlite_ws.__dict__.pop("lineage", None)
    sqlite_ws.config = type(sqlite_ws.config).load(sqlite_ws.root)
    with pytest.raises(LineageEndpointError, match="/api/v1/lineage: 503 Server Error"):
        sqlite_ws.lineage.flush_events()
    assert len(_events(queue)) == 2
    handler.status = 200
    out = cli("openlineage", "flush", cwd=sqlite_ws.root)
    assert out.code == 0 and "sent 2 queued events" in out.stdout
    assert [e["job"]["name"] for e in handler.received] == ["first", "first"]
    assert not queue.exists()


def test_queued_events_go_out_first_when_the_endpoint_answers_again(
    sqlite_ws: Workspace, endpoint: tuple[str, type[_Receiver]]
) -> None:
    url, handler = endpoint
    _configure(sqlite_ws, transport="http", url=url)
    handler.status = 500
    with sqlite_ws.run("first"):
        pass
    queue = sqlite_ws.root / ".strata" / "openlineage-queue.jsonl"
    assert [e["job"]["name"] for e in _events(queue)] == ["first", "first"]
    handler.status = 200
    with sqlite_ws.run("second"):
        pass
    assert [(e["job"]["name"], e["eventType"]) for e in handler.received] == [
        ("first", "START"), ("first", "COMPLETE"), ("second", "START"), ("second", "COMPLETE"),
    ]  # fmt: skip
    assert not queue.exists()


def test_a_file_that_cannot_be_written_queues_the_events(sqlite_ws: Workspace) -> None:
    (sqlite_ws.root / "taken").write_text("a file, not a folder")
    _configure(sqlite_ws, transport="file", path="taken/events/ol.jsonl")
    with sqlite_ws.run("first") as run:
        pass
    assert sqlite_ws.lineage.run(run.ref).status == "completed"
    queue = sqlite_ws.root / ".strata" / "openlineage-queue.jsonl"
    assert [e["eventType"] for e in _events(queue)] == ["START", "COMPLETE"]
    (sqlite_ws.root / "taken").unlink()  # now the folders can be made
    with sqlite_ws.run("second"):
        pass
    written = _events(sqlite_ws.root / "taken" / "events" / "ol.jsonl")
    assert [e["job"]["name"] for e in written] == ["first", "first", "second", "second"]
    assert not queue.exists()


SPARK = {
    "eventTime": "2024-10-15T10:00:00Z",
    "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/spark",
    "schemaURL": f"{SPEC_ID}#/$defs/RunEvent",
    "run": {"runId": "0192f0a4-7c2e-7a3b-9c1d-2e3f4a5b6c7d"},
    "job": {"namespace": "spark-cluster", "name": "aggregate_deliveries"},
    "inputs": [{"namespace": "s3://lake", "name": "raw/deliveries",
                "facets": {"version": {"_producer": "x:y", "_schemaURL": "x:y",
                                       "datasetVersion": "12"}}}],
    "outputs": [{"namespace": "strata", "name": "table:deliveries",
                 "facets": {"version": {"_producer": "x:y", "_schemaURL": "x:y",
                                        "datasetVersion": "47"}}}],
}  # fmt: skip


def _lines(*events: object) -> str:
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events)


def test_ingest_takes_good_events_and_rejects_bad_ones_one_by_one(
    sqlite_ws: Workspace, cli: Cli
) -> None:
    complete = {**SPARK, "eventType": "COMPLETE", "eventTime": "2024-10-15T10:05:00Z"}
    foreign = {"eventTime": "2024-10-15T10:00:00Z", "producer": "x:y", "schemaURL": "x:y"}
    no_time = {k: v for k, v in SPARK.items() if k != "eventTime"}
    bad_id = {**SPARK, "run": {"runId": "not-a-uuid"}}
    start = {**SPARK, "eventType": "START"}
    lines = _lines(start, "{not json", foreign, no_time, bad_id, complete)
    write(sqlite_ws.root / "events.jsonl", lines)
    out = cli("openlineage", "ingest", "events.jsonl", cwd=sqlite_ws.root)
    assert out.code == 2
    assert "ingested 2 events" in out.stdout
    rejected = out.stderr.splitlines()
    assert len(rejected) == 4 and "Traceback" not in out.stderr
    assert rejected[0].startswith("rejected event 2: not JSON")
    assert "rejected event 3: not an OpenLineage event" in rejected[1]
    assert "rejected event 4: invalid" in rejected[2] and "eventTime" in rejected[2]
    assert "rejected event 5: run id 'not-a-uuid' is not a UUID" in rejected[3]
    [run] = sqlite_ws.lineage.runs()
    assert run.job == "aggregate_deliveries" and run.status == "completed"
    g = sqlite_ws.lineage.graph("table:deliveries@47", direction="upstream")
    assert set(g.refs()) == {"table:deliveries@47", run.ref, "dataset:s3://lake/raw/deliveries@12"}


def test_strata_events_ingested_elsewhere_give_the_same_graph(
    sqlite_ws: Workspace, make_workspace: Any, cli: Cli
) -> None:
    _configure(sqlite_ws, transport="file", path="ol.jsonl")
    with sqlite_ws.run("train") as run:
        run.input("table:deliveries@47")
        run.output("model:clf@1")
    other = make_workspace("other")
    out = cli("lineage", "ingest", str(sqlite_ws.root / "ol.jsonl"), "--json", cwd=other.root)
    assert out.json() == {"ingested": 2, "rejected": []}
    g = other.lineage.graph("model:clf@1", direction="upstream")
    assert set(g.refs()) == {"model:clf@1", run.ref, "table:deliveries@47"}


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"transport": "kafka"}, "bad lineage.openlineage.transport 'kafka'"),
        ({"transport": "http", "url": "ftp://x"}, "bad lineage.openlineage.url 'ftp://x'"),
        ({"transport": "http"}, "bad lineage.openlineage.url ''"),
        ({"transport": "http", "url": "http://x", "timeout": "soon"},
         "bad lineage.openlineage.timeout 'soon'"),
    ],
)  # fmt: skip
def test_a_bad_transport_setting_in_the_file_is_a_config_error(
    sqlite_ws: Workspace, cli: Cli, settings: dict[str, str], fragment: str
) -> None:
    _configure(sqlite_ws, **settings)
    before = row_counts(sqlite_ws)
    out = cli("run", "-n", "x", "--", "true", cwd=sqlite_ws.root)
    assert_one_line_error(out, ConfigError.exit_code, fragment)
    assert row_counts(sqlite_ws) == before


NO_TRANSPORT = """
import sys
from strata import Workspace
with Workspace(".").run("train"):
    pass
print("openlineage" in sys.modules)
"""


@pytest.mark.slow
def test_a_run_with_no_transport_does_not_load_the_client(sqlite_ws: Workspace) -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_TRANSPORT],
        cwd=sqlite_ws.root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"


def test_console_transport_writes_events_to_stderr(
    sqlite_ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    _configure(sqlite_ws, transport="console")
    with sqlite_ws.run("train") as run:
        run.output("model:clf@1")
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    assert all(_validate(e) >= 1 for e in events)
