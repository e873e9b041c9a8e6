"""The rest of the REST API on a real ``strata server`` (SQLite): table, run, release,
incident and guard reads in the shape ``--json`` prints; model uploads, table writes and run
records as an editor, recorded as that user; guard checks and rollbacks as a maintainer; and
a failed write that leaves nothing behind. One server for the module."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from server_support import Server, Site, make_site, served
from strata.config import set_value

API = "/api/v1"
MAX_UPLOAD = 24 * 2**20
POLICY = """\
metrics:
  source: file
  path: metrics.json
models:
  clf:
    conditions:
      - error_rate > 0.05
    action: rollback
    cooldown: 1h
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """make_site's, with deliveries@1, a run, clf@2 in production over clf@1, release r1,
    and a guard policy whose metrics breach on clf."""
    site = make_site(tmp_path_factory.mktemp("data") / "ws", None)
    set_value(site.root, "server.max_upload", str(MAX_UPLOAD), scope="local")
    with site.workspace() as ws:
        pq.write_table(pa.table({"id": [4, 5], "delay": [9.0, 4.0]}), site.root / "more.parquet")
        ws.table("deliveries").append(site.root / "more.parquet")
        ws.lineage.record_run("train", user="ana", inputs=["table:deliveries@1"])
        for number in (1, 2):
            ws.models.promote(f"model:clf@{number}", "production", reason="ship")
        ws.recovery.releases.create("r1", tables=["table:deliveries@1"])
    (site.root / "guard.yaml").write_text(POLICY)
    (site.root / "metrics.json").write_text(json.dumps({"clf": {"error_rate": 0.09}}))
    return site


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    yield from served(site)


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["error"]["message"]
    assert "\n" not in message and "Traceback" not in message
    return message


def _uploads_left(site: Site) -> list[Path]:
    return list((site.root / ".strata" / "tmp" / "uploads").glob("*"))


def _arrow_stream(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_table_reads_answer_what_the_cli_prints(server: Server, site: Site) -> None:
    with server.client(site.tokens["bo"]) as client:
        rows = client.get(f"{API}/tables/deliveries", params={"version": 0, "limit": 2}).json()
        assert len(rows) == 2 and set(rows[0]) == {"id", "delay"}
        latest = client.get(f"{API}/tables/deliveries", params={"columns": "id"}).json()
        assert sorted(r["id"] for r in latest) == [1, 2, 3, 4, 5]
        stats = client.get(f"{API}/tables/deliveries/stats", params={"version": 1}).json()
        assert (stats["version"], stats["row_count"]) == (1, 5)
        diff = client.get(f"{API}/tables/deliveries/diff?from=0&to=1&key=id").json()
        assert diff["row_count"] == {"old": 3, "new": 5} and diff["rows"]["added"] == 2
        _error(client.get(f"{API}/tables/nope/stats"), 404)
        _error(client.get(f"{API}/tables/deliveries/stats?version=9"), 404)
        _error(client.get(f"{API}/tables/deliveries/diff?from=0"), 400)
    with site.workspace() as ws:  # the same as `strata table stats --json`
        assert stats == json.loads(json.dumps(ws.tables.open("deliveries").stats(1).to_dict()))


def test_run_release_incident_and_guard_reads(server: Server, site: Site) -> None:
    with server.client(site.tokens["bo"]) as client:
        [run] = client.get(f"{API}/runs", params={"job": "train"}).json()
        assert run["inputs"] == ["table:deliveries@1"]
        assert client.get(f"{API}/runs/{run['ref']}").json() == run
        _error(client.get(f"{API}/runs/run:01JD5Z3W7Q8R9S0T1V2W3X4Y5Z"), 404)
        [release] = client.get(f"{API}/releases").json()
        assert release["name"] == "r1" and release["tables"] == {"deliveries": 1}
        assert client.get(f"{API}/releases/r1").json() == release
        _error(client.get(f"{API}/releases/nope"), 400)  # the releases call it bad input
        report = client.get(f"{API}/incidents", params={"since": "1h", "model": "clf"}).json()
        assert any("production" in e["text"] for e in report["timeline"])
        _error(client.get(f"{API}/incidents", params={"since": "someday"}), 400)
        assert client.get(f"{API}/guard/events").json() == []
        ready = client.get(f"{API}/rollback/model:clf/readiness").json()
        assert ready["ready"] is True and ready["target"] == "model:clf@1"


def test_an_editor_registers_an_upload_as_a_content_addressed_version(
    server: Server, site: Site
) -> None:
    artifact = b"weights " * 1000
    form = {"metric": ["auc=0.91"], "tag": ["team=eta"], "data": ["table:deliveries@1"],
            "description": "from CI"}  # fmt: skip
    with server.client(site.tokens["cy"]) as client:
        answer = client.post(
            f"{API}/models/uploaded/versions", files={"artifact": ("m.bin", artifact)}, data=form
        )
        assert answer.status_code == 201, answer.text
        version = answer.json()
        assert (version["ref"], version["metrics"], version["tags"]) == (
            "model:uploaded@1", {"auc": 0.91}, {"team": "eta"},
        )  # fmt: skip
        again = client.post(
            f"{API}/models/uploaded/versions", files={"artifact": ("m.bin", artifact)}, data=form
        )
        assert again.json()["already_registered"] is True and again.json()["version"] == 1
        trail = client.get(f"{API}/models/uploaded/history").json()
    assert trail[0]["actor"] == "cy"
    with site.workspace() as ws:
        assert ws.models.path("model:uploaded@1").read_bytes() == artifact
        assert ws.models.show("model:uploaded@1").created_by == "cy"
        provenance = ws.lineage.provenance("model:uploaded@1")
    assert "table:deliveries@1" in str(provenance)
    assert _uploads_left(site) == []


@pytest.mark.parametrize(
    ("form", "files", "status"),
    [
        ({"metric": ["auc=high"]}, True, 400),
        ({"data": ["table:nope@1"]}, True, 404),
        ({"signature": "{not json"}, True, 400),
        ({"colour": "red"}, True, 400),
        ({}, False, 400),
    ],
)
def test_a_refused_upload_leaves_nothing(
    server: Server, site: Site, form: dict[str, Any], files: bool, status: int
) -> None:
    upload = {"artifact": ("m.bin", b"x" * 100)} if files else {"other": ("a", b"a")}
    with server.client(site.tokens["cy"]) as client:
        before = client.get(f"{API}/models").json()
        _error(client.post(f"{API}/models/refused/versions", files=upload, data=form), status)
        assert client.get(f"{API}/models").json() == before
    assert _uploads_left(site) == []


def test_uploads_have_their_own_body_limit(server: Server, site: Site) -> None:
    with server.client(site.tokens["cy"]) as client:
        big = client.post(
            f"{API}/models/big/versions", files={"artifact": ("big.bin", b"b" * (17 * 2**20))}
        )
        assert big.status_code == 201, big.text  # over the 16 MiB of other requests
        assert "16777216" in _error(client.post(f"{API}/runs", content=b"x" * (17 * 2**20)), 413)
        over = client.post(
            f"{API}/models/big/versions", files={"artifact": ("big.bin", b"c" * MAX_UPLOAD)}
        )
        assert str(MAX_UPLOAD) in _error(over, 413)
        assert [v["version"] for v in client.get(f"{API}/models/big/versions").json()] == [1]
    assert _uploads_left(site) == []


def test_an_editor_writes_tables_as_parquet_or_arrow(server: Server, site: Site) -> None:
    rows = pa.table({"id": [1, 2], "kind": ["a", "b"]})
    parquet = {"Content-Type": "application/vnd.apache.parquet"}
    arrow = {"Content-Type": "application/vnd.apache.arrow.stream"}
    with server.client(site.tokens["cy"]) as client:
        made = client.put(f"{API}/tables/events", content=_parquet(rows), headers=parquet)
        assert made.status_code == 201, made.text
        assert made.json()["version"] == 0
        body = _arrow_stream(pa.table({"id": [3], "kind": ["c"]}))
        first = client.post(f"{API}/tables/events/append?message=more", content=body, headers=arrow)
        assert first.json() == {**first.json(), "version": 1, "committed": True}, first.text
        rerun = client.post(f"{API}/tables/events/append", content=body, headers=arrow)
        assert (rerun.json()["version"], rerun.json()["committed"]) == (1, False)
        wrong = _parquet(pa.table({"id": ["not a number"]}))
        _error(client.post(f"{API}/tables/events/append", content=wrong, headers=parquet), 400)
        _error(client.post(f"{API}/tables/events/append", content=body), 400)
        garbage = client.post(f"{API}/tables/events/append", content=b"nope", headers=parquet)
        _error(garbage, 400)
        _error(client.post(f"{API}/tables/nope/append", content=body, headers=arrow), 404)
        _error(client.put(f"{API}/tables/events", content=body, headers=arrow), 400)
        history = client.get(f"{API}/tables/events/history").json()
        replaced = client.post(
            f"{API}/tables/events/overwrite", content=_parquet(rows), headers=parquet
        )
        assert replaced.json()["version"] == 2, replaced.text
    assert [(c["version"], c["user"]) for c in history] == [(1, "cy"), (0, "cy")]
    assert _uploads_left(site) == []


def test_an_editor_records_a_finished_run(server: Server, site: Site) -> None:
    record = {"job": "score", "params": {"k": 5}, "metrics": {"auc": 0.8},
              "inputs": ["table:deliveries@latest"], "outputs": ["model:clf@3"],
              "environment": {"host": "ci-runner"}}  # fmt: skip
    with server.client(site.tokens["cy"]) as client:
        answer = client.post(f"{API}/runs", json=record)
        assert answer.status_code == 201, answer.text
        run = answer.json()
        assert (run["status"], run["inputs"], run["outputs"]) == (
            "completed", ["table:deliveries@1"], ["model:clf@3"],
        )  # fmt: skip
        assert run["environment"]["user"] == "cy" and run["host"] == "ci-runner"
        before = client.get(f"{API}/runs").json()
        _error(client.post(f"{API}/runs", json={**record, "metrics": {"auc": "x"}}), 400)
        _error(client.post(f"{API}/runs", json={**record, "inputs": ["table:nope@latest"]}), 404)
        _error(client.post(f"{API}/runs", json={**record, "job": ""}), 400)
        assert client.get(f"{API}/runs").json() == before


def test_a_guard_check_acts_as_the_maintainer_who_asked(server: Server, site: Site) -> None:
    check = f"{API}/guard/check"
    with server.client(site.tokens["bo"]) as client:
        dry = client.post(check, json={"policy": "guard.yaml", "dry_run": True}).json()
        assert dry[0]["outcome"] == "would_roll_back"
        _error(client.post(check, json={"policy": "guard.yaml"}), 403)
    with server.client(site.tokens["cy"]) as client:  # clf's maintainer by grant
        for policy in ("../guard.yaml", "/etc/passwd", ".strata/config.toml"):
            _error(client.post(check, json={"policy": policy}), 400)
        _error(client.post(check, json={"policy": "missing.yaml"}), 400)
        [done] = client.post(check, json={"policy": "guard.yaml"}).json()
        assert (done["outcome"], done["from"], done["to"]) == (
            "rolled_back", "model:clf@2", "model:clf@1",
        )  # fmt: skip
        [event] = client.get(f"{API}/guard/events", params={"model": "clf"}).json()
        assert event["outcome"] == "rolled_back"
        last = client.get(f"{API}/models/clf/history").json()[-1]
    assert last["actor"] == "cy" and last["reason"].startswith("guard:")


def test_rollbacks_of_tables_and_releases_as_a_maintainer(server: Server, site: Site) -> None:
    with server.client(site.tokens["cy"]) as client:  # a maintainer of clf only
        refused = client.post(f"{API}/rollback/table:deliveries", json={"to": 0})
        assert "promote table:deliveries" in _error(refused, 403)
    with server.client(site.tokens["ana"]) as client:
        _error(client.post(f"{API}/rollback/table:deliveries", json={}), 400)
        done = client.post(f"{API}/rollback/table:deliveries", json={"to": 0, "reason": "bad"})
        assert done.json() == {"from": "table:deliveries@1", "to": "table:deliveries@2"}
        back = client.post(f"{API}/releases/r1/rollback", json={"reason": "known good"})
        assert back.status_code == 200, back.text
        history = client.get(f"{API}/tables/deliveries/history", params={"limit": 2}).json()
    assert [c["user"] for c in history] == ["ana", "ana"]
    assert history[0]["version"] == 3
