"""MLflow's own client (``mlflow`` 3.x, in its own venv) against a real ``strata server``:
tracking, artifacts and the registry land in Strata's run store, object store and registry.

One server for the module, on SQLite; each client script runs a whole scenario."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlflow_support import mlflow_python, run_script
from server_support import Server, Site, make_site, served
from strata.config import set_value

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def python() -> Path:
    return mlflow_python()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    made = make_site(tmp_path_factory.mktemp("mlflow") / "ws", None)
    set_value(made.root, "registry.gates.production.require_stage", "staging")
    return made


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    yield from served(site)


@pytest.fixture(scope="module")
def tracked(python: Path, server: Server, site: Site) -> dict[str, object]:
    return run_script(python, "track.py", server.url, user="cy", token=site.tokens["cy"])


def test_an_mlflow_run_is_a_strata_run(tracked: dict[str, object], site: Site) -> None:
    run = dict(tracked["run"])  # type: ignore[call-overload]
    inputs = run.pop("inputs")
    assert inputs[0].startswith("dataset:mlflow/deliveries@")  # a pandas frame's digest
    assert inputs[1:] == ["table:deliveries@0"]
    assert run == {
        "status": "FINISHED",
        "name": "first",
        "user": "cy",  # who authenticated
        "ended": True,
        "artifact_uri": f"{tracked['artifact_location']}/{tracked['run_id']}/artifacts",
        "params": {"lr": "0.1", "depth": "3", "algo": "tree"},
        "metrics": {"loss": 0.3, "auc": 0.91},
        "tags": {"team": "ml"},
    }
    assert tracked["history"] == [[0, 0.9], [1, 0.5], [2, 0.3]]
    with site.workspace() as ws:
        record = ws.lineage.run(f"run:{tracked['run_id']}")
    assert (record.job, record.status) == ("train-clf", "completed")
    assert record.params == {"lr": "0.1", "depth": "3", "algo": "tree"}
    assert record.metrics == {"loss": 0.3, "auc": 0.91}
    assert sorted(record.inputs) == inputs  # what `strata run show` lists as its inputs


def test_runs_and_experiments_are_searched(tracked: dict[str, object]) -> None:
    assert str(tracked["artifact_location"]).startswith("mlflow-artifacts:/")
    assert tracked["search"] == ["first"]
    assert tracked["ordered"] == ["second", "first"]
    assert tracked["experiments"] == ["Default", "train-clf"]


def test_errors_carry_mlflow_codes(tracked: dict[str, object]) -> None:
    assert tracked["errors"] == {
        "missing_run": "RESOURCE_DOES_NOT_EXIST",
        "missing_experiment": "RESOURCE_DOES_NOT_EXIST",
        "duplicate_experiment": "RESOURCE_ALREADY_EXISTS",
        "param_changed": "INVALID_PARAMETER_VALUE",
        "bad_filter": "INVALID_PARAMETER_VALUE",
    }


def test_artifacts_are_strata_objects(tracked: dict[str, object], site: Site) -> None:
    assert tracked["listed"] == [
        ["data", True, None],
        ["notes.txt", False, len("trained on deliveries")],
        ["plots", True, None],
    ]
    assert tracked["listed_plots"] == [["plots/a.txt", False], ["plots/deep", True]]
    assert tracked["big_same"] is True and tracked["nested"] == "BB"
    location = str(tracked["artifact_location"]).removeprefix("mlflow-artifacts:/")
    with site.workspace() as ws:
        first = ws.run_artifacts.files(f"{location}/{tracked['run_id']}/artifacts")
        second = ws.run_artifacts.files(f"{location}/{tracked['second_run_id']}/artifacts")
        assert ws.store.exists(first["data/big.bin"][0])
        assert first["data/big.bin"][1] == 17 * 1024 * 1024
        assert first["notes.txt"] == second["notes.txt"]  # one object for the same bytes
        assert set(ws.run_artifacts.objects()) <= set(ws._kept_objects())  # gc keeps them


@pytest.fixture(scope="module")
def registered(python: Path, server: Server, site: Site) -> dict[str, Any]:
    return run_script(python, "register.py", server.url, user="ana", token=site.tokens["ana"])


def test_versions_registered_through_mlflow_are_strata_versions(
    registered: dict[str, Any], site: Site
) -> None:
    assert registered["from_runs_path"] == "1" and registered["from_logged_name"] == "2"
    assert registered["v1"] == {"status": "READY", "run_id": registered["run_id"], "stage": "None"}
    with site.workspace() as ws:
        v1 = ws.models.show("model:doubler@1")
        assert v1.run == f"run:{registered['run_id']}" and v1.created_by == "ana"
        assert v1.tags["mlflow.model_id"] == registered["logged_model_id"]
        assert v1.data == ("table:deliveries@0",)  # what the run logged as its input
        assert ws.models.show("model:doubler@production").number == 1
        trail = ws.models.history("doubler")
        changes = [(e.action, e.actor) for e in trail if e.action in ("stage", "alias")]
        assert changes == [("stage", "ana"), ("stage", "ana"), ("alias", "ana"), ("alias", "ana")]
        provenance = ws.lineage.provenance("model:doubler@1")
        out = ws.models.download("model:doubler@1", site.root.parent / "doubler-1")
        expected = {
            str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in out.rglob("*")
            if p.is_file()
        }
    assert registered["run_id"] in json.dumps(provenance, default=str)
    assert '"scale"' in json.dumps(provenance, default=str)
    downloaded = dict(registered["downloaded"])
    downloaded.pop("registered_model_meta")  # the client writes it beside what it downloads
    assert downloaded == expected  # the bytes `strata model download` gives
    assert registered["download_uri"] == "mlflow-artifacts:/registry/doubler/1"


def test_stages_aliases_and_loading(registered: dict[str, Any]) -> None:
    assert registered["gate"][0] == "INVALID_STATE" and "staging" in registered["gate"][1]
    assert registered["by_alias"] == "2"
    assert registered["latest_production"] == ["1"]
    assert registered["registered"] == {
        "latest": [["None", "2"], ["Production", "1"]],
        "aliases": {"champion": "2"},
        "tags": {"team": "ml"},
    }
    assert set(map(tuple, registered["predictions"].values())) == {(2, 4)}
    assert registered["searched"] == ["1", "2"]


def test_mlflow_reads_what_the_strata_cli_registered(registered: dict[str, Any]) -> None:
    assert registered["cli_model"] == ["3"]
    assert registered["cli_bytes"] == "clf 3"


def test_registry_errors_carry_mlflow_codes(registered: dict[str, Any]) -> None:
    codes = {key: found[0] for key, found in registered["errors"].items()}
    assert codes == {
        "missing_model": "RESOURCE_DOES_NOT_EXIST",
        "missing_version": "RESOURCE_DOES_NOT_EXIST",
        "missing_alias": "RESOURCE_DOES_NOT_EXIST",
        "duplicate_model": "RESOURCE_ALREADY_EXISTS",
        "missing_artifacts": "RESOURCE_DOES_NOT_EXIST",
        "delete_version": "INVALID_PARAMETER_VALUE",
    }


def test_a_viewers_client_reads_and_every_write_is_refused(
    python: Path, server: Server, site: Site, tracked: dict[str, Any], registered: dict[str, Any]
) -> None:
    run_id = str(tracked["run_id"])
    found = run_script(python, "viewer.py", server.url, run_id, user="bo", token=site.tokens["bo"])
    assert (found["read_run"], found["read_model"], found["read_bytes"]) == ("0.1", "clf", "clf 3")
    refused = found.pop("refused")
    assert refused.pop("log_artifact") == 403
    assert set(refused.values()) == {"PERMISSION_DENIED"}, refused
    assert len(refused) == 16
    assert found["after"] == {"lr": "0.1", "depth": "3", "algo": "tree"}  # nothing written
    with site.workspace() as ws:
        assert "viewer-model" not in {m.name for m in ws.models.list_models()}
        assert ws.models.show("model:clf@1").stage == "none"
        assert ws.tracking.tracked_run(run_id).status == "FINISHED"


# -- the HTTP edge, with httpx: authentication, grants, bad input, uploads cut off ------------
API = "/api/2.0/mlflow"
UPLOAD = "/api/2.0/mlflow-artifacts/artifacts"


def _basic(site: Site, user: str) -> httpx.BasicAuth:
    return httpx.BasicAuth(user, site.tokens[user])


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"} and body["error_code"] == code
    message: str = body["message"]
    assert "Traceback" not in message and "\n" not in message
    return message


def test_anonymous_clients_are_asked_to_log_in(server: Server) -> None:
    with server.client() as client:
        for method, path in (
            ("GET", f"{API}/experiments/get?experiment_id=0"),
            ("POST", f"{API}/runs/create"),
            ("PUT", f"{UPLOAD}/0/x.txt"),
            ("POST", "/ajax-api/2.0/mlflow/registered-models/create"),
        ):
            answer = client.request(method, path, json={})
            _error(answer, 401, "UNAUTHENTICATED")
            assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_a_grant_on_one_model_is_no_grant_on_another(server: Server, site: Site) -> None:
    stage = f"{API}/model-versions/transition-stage"
    with server.client(auth=_basic(site, "cy")) as client:  # editor; maintainer on clf only
        refused = client.post(stage, json={"name": "other", "version": "1", "stage": "Staging"})
        assert refused.status_code == 200  # an editor may stage
        refused = client.post(stage, json={"name": "other", "version": "1", "stage": "Production"})
        assert "maintainer" in _error(refused, 403, "PERMISSION_DENIED")
        moved = client.post(stage, json={"name": "clf", "version": "2", "stage": "Staging"})
        assert moved.json()["model_version"]["current_stage"] == "Staging"
        moved = client.post(stage, json={"name": "clf", "version": "2", "stage": "Production"})
        assert moved.json()["model_version"]["current_stage"] == "Production"
    with site.workspace() as ws:
        assert ws.models.show("model:other@1").stage == "staging"
        assert ws.models.history("clf")[-1].actor == "cy"


def test_a_grant_on_an_experiment_lets_a_viewer_log_there_only(server: Server, site: Site) -> None:
    with server.client(auth=_basic(site, "ana")) as client:
        made = client.post(f"{API}/experiments/create", json={"name": "bo-lab"})
        experiment_id = made.json()["experiment_id"]
    with site.workspace() as ws:
        ws.users.grant("bo", "experiment:bo-lab", "editor", by="tests")
        # A new token: the server remembers an old token's grants for a few seconds.
        token = ws.users.create_token("bo")[1]
    with server.client(auth=httpx.BasicAuth("bo", token)) as client:
        run = client.post(f"{API}/runs/create", json={"experiment_id": experiment_id})
        assert run.json()["run"]["info"]["user_id"] == "bo"
        elsewhere = client.post(f"{API}/runs/create", json={"experiment_id": "0"})
        _error(elsewhere, 403, "PERMISSION_DENIED")


def test_bad_input_is_a_one_line_mlflow_error(server: Server, site: Site) -> None:
    with server.client(auth=_basic(site, "ana")) as client:
        malformed = client.post(f"{API}/runs/create", content=b"{not json")
        assert "malformed JSON" in _error(malformed, 400, "INVALID_PARAMETER_VALUE")
        wrong = client.post(f"{API}/runs/log-metric", json={"run_id": "x", "value": "high"})
        _error(wrong, 400, "INVALID_PARAMETER_VALUE")
        huge = client.post(f"{API}/runs/log-batch", content=b"x" * (17 * 1024 * 1024))
        _error(huge, 413, "INVALID_PARAMETER_VALUE")
        _error(client.get(f"{API}/no/such/endpoint"), 404, "ENDPOINT_NOT_FOUND")
        escape = client.put(f"{UPLOAD}/0/..%2F..%2Fetc/passwd", content=b"x")
        assert escape.status_code in (400, 404)
        missing = client.get(f"{UPLOAD}/0/nothing/here.txt")
        _error(missing, 404, "RESOURCE_DOES_NOT_EXIST")


def test_an_upload_cut_off_stores_nothing_and_the_retry_completes(
    server: Server, site: Site
) -> None:
    path = f"{UPLOAD}/0/cut/artifacts/weights.bin"
    data = bytes(range(256)) * 4096  # 1 MiB
    host, port = server.url.removeprefix("http://").split(":")
    credentials = base64.b64encode(f"ana:{site.tokens['ana']}".encode()).decode()
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(
            f"PUT {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {credentials}\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data[: len(data) // 2]
        )  # half the body, then the connection drops
    deadline = time.monotonic() + 30
    while f"PUT {path} 400" not in server.log_text():  # the server saw it cut off
        assert time.monotonic() < deadline, server.log_text()
        time.sleep(0.05)
    with server.client(auth=_basic(site, "ana")) as client:
        _error(client.get(path), 404, "RESOURCE_DOES_NOT_EXIST")
        with site.workspace() as ws:
            assert ws.run_artifacts.files("0/cut") == {}
            leftovers = list(ws.store.tmp_dir.glob("upload-*"))
        assert leftovers == []
        assert client.put(path, content=data).status_code == 200
        assert client.get(path).content == data
