"""MLflow's own client (``mlflow`` 3.x, in its own venv) against a real ``strata server``:
tracking, artifacts and the registry land in Strata's run store, object store and registry.

One server for the module, on SQLite; each client script runs a whole scenario."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlflow_support import mlflow_python, run_script
from server_support import Server, Site, make_site, start_server
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
    running = start_server(site.root, site.env)
    yield running
    assert running.stop() == 0, running.log_text()


@pytest.fixture(scope="module")
def tracked(python: Path, server: Server, site: Site) -> dict[str, object]:
    return run_script(python, "track.py", server.url, user="cy", token=site.tokens["cy"])


def test_an_mlflow_run_is_a_strata_run(tracked: dict[str, object], site: Site) -> None:
    run = tracked["run"]
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
