"""``strata migrate mlflow`` from a real ``mlflow server`` on SQLite (MLflow's own venv), its
registry built by MLflow's client: what arrives, a dry run, faults, a rerun, and a kill.

One MLflow server and one registry for the module; each test migrates into a new workspace.
The tests run in file order: the last two change the registry."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from factories import STRATA, Cli, WorkspaceFactory, assert_one_line_error, free_port
from mlflow_support import mlflow_python, run_script
from server_support import make_site, start_server
from strata.recovery.mlflow_migration import RUN_TAG, VERSION_TAG

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def python() -> Path:
    return mlflow_python()


@pytest.fixture(scope="module")
def mlflow_server(python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``mlflow server`` on SQLite with proxied artifacts: (url, artifacts folder)."""
    base = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    command = [
        str(python.parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
        "--backend-store-uri", f"sqlite:///{base / 'mlflow.db'}",
        "--artifacts-destination", str(base / "artifacts"), "--workers", "1",
    ]  # fmt: skip
    with (base / "log").open("wb") as log:
        process = subprocess.Popen(command, cwd=base, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError((base / "log").read_text())
    yield url, base / "artifacts"
    process.terminate()
    process.wait(30)


@pytest.fixture(scope="module")
def registry(python: Path, mlflow_server: Any) -> dict[str, Any]:
    return run_script(python, "migration_source.py", mlflow_server[0])


def migrate(cli: Cli, root: Path, url: str, *args: str) -> Any:
    done = cli("migrate", "mlflow", "--tracking-uri", url, "--json", *args, cwd=root)
    return done.code, done.json() if done.stdout.strip() else None


def test_dry_run_lists_what_it_would_do_and_writes_nothing(
    registry: dict[str, Any], mlflow_server: Any, make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    ws = make_workspace()
    code, summary = migrate(cli, ws.root, mlflow_server[0], "--model", "clf", "--dry-run")
    assert code == 0
    assert summary["counts"] == {"model": 1, "run": 2, "version": 2, "stage": 2, "alias": 2}
    assert {"action": "version", "target": "model:clf@1", "detail": "2 files, 112 bytes"} in (
        summary["steps"]
    )
    fresh = make_workspace.open(ws.root)
    assert fresh.models.list_models() == []
    assert [e.name for e in fresh.tracking.experiments()] in ([], ["Default"])


def test_versions_stages_aliases_files_and_runs_arrive(
    registry: dict[str, Any], mlflow_server: Any, make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    ws = make_workspace()
    code, summary = migrate(cli, ws.root, mlflow_server[0], "--model", "clf")
    assert (code, summary["failed"]) == (0, [])
    reg = make_workspace.open(ws.root).models
    v1, v2 = reg.versions("clf")
    assert [(v.number, v.stage, v.aliases, v.description) for v in (v1, v2)] == [
        (1, "staging", ("challenger",), "try 1"),
        (2, "production", ("champion",), "try 2"),
    ]
    assert (v2.tags["owner"], v2.tags[VERSION_TAG]) == ("ana", "2")
    assert reg.model_tags("clf") == {"team": "ml"}
    out = reg.download("model:clf@2", ws.root / "out")
    assert (out / "data" / "w.bin").read_text() == "w2" * 50  # the bytes MLflow kept
    notes = [e.reason for e in reg.history("clf", version=2) if e.reason]
    assert any("keeps only a version's current stage" in n for n in notes)
    lineage, tracking = make_workspace.open(ws.root).lineage, ws.tracking
    run = lineage.run(str(v2.run))
    assert (run.job, run.status) == ("train-clf", "completed")
    assert run.environment["git"] == {"commit": "a" * 40}
    assert run.params == {"lr": "0.1", "depth": "100"}
    assert run.metrics == {"loss": 0.2}
    assert [p.value for p in tracking.metric_history(run.id, "loss")] == [0.8, 0.2]
    tracked = tracking.tracked_run(run.id)
    assert (tracked.tags["team"], tracked.tags[RUN_TAG]) == ("ml", registry["runs"][1])
    assert any(r.startswith("dataset:mlflow/deliveries@") for r in run.inputs)
    chain = cli("provenance", "model:clf@2", "--json", cwd=ws.root).json()
    assert [r["id"] for r in chain["runs"]] == [run.id]  # type: ignore[index]
    text = cli("provenance", "model:clf@2", cwd=ws.root).stdout
    assert f"(repository not recorded) @ {'a' * 12}" in text  # MLflow records the commit only


def test_a_database_is_read_through_mlflow_server(
    python: Path, make_workspace: WorkspaceFactory, cli: Cli, tmp_path: Path
) -> None:
    """A registry a client logged straight into SQLite, its artifacts in local folders."""
    database = f"sqlite:///{tmp_path / 'mlflow.db'}"
    made = run_script(python, "migration_source.py", database, cwd=tmp_path)
    ws = make_workspace()
    mlflow = str(python.parent / "mlflow")
    code, summary = migrate(cli, ws.root, database, "--model", "clf", "--mlflow", mlflow)
    assert (code, summary["source"], summary["failed"]) == (0, database, [])
    fresh = make_workspace.open(ws.root)
    assert [(v.number, v.stage) for v in fresh.models.versions("clf")] == [
        (1, "staging"),
        (2, "production"),
    ]
    out = fresh.models.download("model:clf@1", ws.root / "out")
    assert (out / "data" / "w.bin").read_text() == "w1" * 50
    run = fresh.lineage.run(str(fresh.models.show("model:clf@1").run))
    assert fresh.tracking.tracked_run(run.id).tags[RUN_TAG] == made["runs"][0]


def test_a_database_without_the_mlflow_command_is_one_line(
    make_workspace: WorkspaceFactory, cli: Cli, tmp_path: Path
) -> None:
    ws = make_workspace()
    done = cli("migrate", "mlflow", "--tracking-uri", f"sqlite:///{tmp_path / 'x.db'}",
               "--mlflow", str(tmp_path / "no-mlflow"), cwd=ws.root)  # fmt: skip
    assert_one_line_error(done, 2, "needs MLflow's `mlflow` command")


def test_a_server_that_is_down_is_one_line_and_nothing_is_written(
    make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    ws = make_workspace()
    done = cli("migrate", "mlflow", "--tracking-uri", f"http://127.0.0.1:{free_port()}",
               cwd=ws.root)  # fmt: skip
    assert_one_line_error(done, 14, "cannot reach MLflow at http://127.0.0.1:")
    assert make_workspace.open(ws.root).models.list_models() == []


def test_refused_credentials_are_one_line(
    make_workspace: WorkspaceFactory, cli: Cli, tmp_path: Path
) -> None:
    """A Strata server speaks MLflow's REST API and checks credentials: the wrong ones."""
    site = make_site(tmp_path / "site", None)
    server = start_server(site.root, site.env)
    try:
        ws = make_workspace()
        env = {"MLFLOW_TRACKING_USERNAME": "ana", "MLFLOW_TRACKING_PASSWORD": "wrong"}
        done = cli("migrate", "mlflow", "--tracking-uri", server.url, cwd=ws.root, env=env)
        assert_one_line_error(done, 15, "refused the credentials (HTTP 401)")
        assert make_workspace.open(ws.root).models.list_models() == []
    finally:
        assert server.stop() == 0


def test_a_version_whose_artifacts_are_gone_is_named_and_the_rest_migrates(
    registry: dict[str, Any], mlflow_server: Any, make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    lost = str(registry["lost_artifacts"]).removeprefix("mlflow-artifacts:/")
    shutil.rmtree(mlflow_server[1] / lost)
    ws = make_workspace()
    code, summary = migrate(cli, ws.root, mlflow_server[0])
    assert code == 1
    assert [f["target"] for f in summary["failed"]] == ["model:gone@1"]
    assert "are gone" in summary["failed"][0]["error"]
    reg = make_workspace.open(ws.root).models
    assert [v.number for v in reg.versions("clf")] == [1, 2]
    assert reg.versions("gone") == []


def test_killed_midway_then_rerun_completes_with_nothing_duplicated(
    registry: dict[str, Any], mlflow_server: Any, make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    ws = make_workspace()
    command = [str(STRATA), "migrate", "mlflow", "--tracking-uri", mlflow_server[0],
               "--model", "clf"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    with subprocess.Popen(
        command, cwd=ws.root, env=env, stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.split()[:2] == ["stage", "model:clf@1"]:  # v1 registered, not promoted
                process.send_signal(signal.SIGKILL)
                break
    assert process.returncode == -signal.SIGKILL
    code, summary = migrate(cli, ws.root, mlflow_server[0], "--model", "clf")
    assert code == 0
    assert summary["unchanged_versions"] == 1
    fresh = make_workspace.open(ws.root)
    versions = fresh.models.versions("clf")
    assert [(v.tags[VERSION_TAG], v.stage) for v in versions] == [
        ("1", "staging"),
        ("2", "production"),
    ]
    experiment = fresh.tracking.experiment_named("train-clf")
    runs = fresh.tracking.runs([experiment.id])
    assert sorted(r.tags[RUN_TAG] for r in runs) == sorted(registry["runs"])


def test_a_second_run_imports_only_what_is_new(
    python: Path, registry: dict[str, Any], mlflow_server: Any,
    make_workspace: WorkspaceFactory, cli: Cli,
) -> None:  # fmt: skip
    ws = make_workspace()
    assert migrate(cli, ws.root, mlflow_server[0], "--model", "clf")[0] == 0
    more = run_script(python, "migration_source.py", mlflow_server[0], "more")
    code, summary = migrate(cli, ws.root, mlflow_server[0], "--model", "clf")
    assert code == 0
    assert summary["counts"] == {"run": 1, "version": 1, "stage": 1, "alias": 2}
    assert {"action": "alias", "target": "model:clf@1", "detail": "challenger removed"} in (
        summary["steps"]
    )
    assert summary["unchanged_versions"] == 2
    done = cli("migrate", "mlflow", "--tracking-uri", mlflow_server[0], "--model", "clf",
               cwd=ws.root)  # fmt: skip
    assert "nothing new; 3 versions already there" in done.stdout
    reg = make_workspace.open(ws.root).models
    assert [(v.number, v.stage, v.aliases) for v in reg.versions("clf")] == [
        (1, "archived", ()),
        (2, "production", ()),
        (more["v3"], "none", ("champion",)),
    ]
