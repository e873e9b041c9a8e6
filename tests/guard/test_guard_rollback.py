"""The guard against the real registry: a breach puts the previous production version back,
readiness refuses a broken target, and tables roll back as restore commits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factories import assert_one_line_error, write
from strata import Workspace

MODEL = "delay-classifier"
POLICY = f"""\
metrics:
  source: file
  path: metrics.json
models:
  {MODEL}:
    conditions:
      - error_rate > 0.05
    action: rollback
    cooldown: 1h
"""


def _two_production_versions(ws: Workspace) -> None:
    """v1 in production, then v2 promoted over it (v1 archived)."""
    for n in (1, 2):
        path = write(ws.root / "train" / f"model-{n}.json", json.dumps({"weights": [n]}))
        ws.models.register(MODEL, path)
        ws.models.promote(f"model:{MODEL}@{n}", "production", reason=f"ship v{n}")


def _guard_files(ws: Workspace, error_rate: float) -> Path:
    (ws.root / "metrics.json").write_text(json.dumps({MODEL: {"error_rate": error_rate}}))
    policy = ws.root / "guard.yaml"
    policy.write_text(POLICY)
    return policy


def test_a_breach_puts_the_previous_production_version_back(make_workspace: Any, cli: Any) -> None:
    ws = make_workspace()
    _two_production_versions(ws)
    policy = _guard_files(ws, error_rate=0.09)

    done = cli("guard", "check", "--policy", str(policy), "--json", cwd=ws.root)
    assert done.code == 0, done.stderr
    [outcome] = json.loads(done.stdout)
    assert outcome["outcome"] == "rolled_back"
    assert (outcome["from"], outcome["to"]) == (f"model:{MODEL}@2", f"model:{MODEL}@1")
    assert ws.models.resolve(f"model:{MODEL}@production").number == 1
    # the registry's trail says why
    last = ws.models.history(MODEL)[-1]
    assert "guard: error_rate > 0.05 (is 0.09)" in (last.reason or "")
    evidence = (last.detail or {})["evidence"]
    assert evidence["fired"] == ["error_rate > 0.05"]
    assert evidence["metrics"] == {"error_rate": 0.09}

    again = cli("guard", "check", "--policy", str(policy), "--json", cwd=ws.root)
    assert json.loads(again.stdout)[0]["outcome"] == "cooldown"
    assert ws.models.resolve(f"model:{MODEL}@production").number == 1

    history = cli("guard", "history", "--json", cwd=ws.root)
    assert [e["outcome"] for e in json.loads(history.stdout)] == ["rolled_back"]


def test_dry_run_changes_nothing(make_workspace: Any, cli: Any) -> None:
    ws = make_workspace()
    _two_production_versions(ws)
    policy = _guard_files(ws, error_rate=0.09)
    done = cli("guard", "check", "--policy", str(policy), "--dry-run", cwd=ws.root)
    assert done.code == 0 and "would_roll_back" in done.stdout
    assert ws.models.resolve(f"model:{MODEL}@production").number == 2


def test_no_rollback_to_a_version_whose_artifact_is_gone(make_workspace: Any, cli: Any) -> None:
    ws = make_workspace()
    _two_production_versions(ws)
    target = ws.models.show(f"model:{MODEL}@1")
    ws.store.remove(target.artifact_hash)

    check = cli("rollback", "check", f"model:{MODEL}", "--json", cwd=ws.root)
    assert check.code == 50
    report = json.loads(check.stdout)
    assert report["ready"] is False and report["target"] == f"model:{MODEL}@1"
    assert any("no default remote" in c["detail"] for c in report["checks"] if not c["ok"])

    policy = _guard_files(ws, error_rate=0.5)
    done = cli("guard", "check", "--policy", str(policy), "--json", cwd=ws.root)
    [outcome] = json.loads(done.stdout)
    assert outcome["outcome"] == "rollback_failed"
    assert ws.models.resolve(f"model:{MODEL}@production").number == 2


def test_a_corrupt_target_artifact_is_not_ready(make_workspace: Any, cli: Any) -> None:
    ws = make_workspace()
    _two_production_versions(ws)
    target = ws.models.show(f"model:{MODEL}@1")
    path = ws.store.path(target.artifact_hash)
    path.chmod(0o644)
    path.write_text('{"weights": [666]}')
    check = cli("rollback", "check", f"model:{MODEL}", cwd=ws.root)
    assert check.code == 50
    assert "FAIL artifact" in check.stdout and "not ready" in check.stdout


def test_ready_rollback_by_hand(make_workspace: Any, cli: Any) -> None:
    ws = make_workspace()
    _two_production_versions(ws)
    check = cli("rollback", "check", f"model:{MODEL}", cwd=ws.root)
    assert check.code == 0, check.stdout
    assert "ready" in check.stdout and "not ready" not in check.stdout
    done = cli("rollback", f"model:{MODEL}", "--reason", "latency", "--json", cwd=ws.root)
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout) == {"from": f"model:{MODEL}@2", "to": f"model:{MODEL}@1"}


def test_rollback_with_no_previous_version_is_a_clear_error(make_workspace: Any, cli: Any) -> None:
    ws = make_workspace()
    path = write(ws.root / "model.json", "{}")
    ws.models.register(MODEL, path)
    ws.models.promote(f"model:{MODEL}@1", "production")
    done = cli("rollback", f"model:{MODEL}", cwd=ws.root)
    assert_one_line_error(done, 50, "no version held production before version 1")
    assert ws.models.resolve(f"model:{MODEL}@production").number == 1


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["rollback"], 2, "Missing argument"),
        (["rollback", "check"], 2, "name one thing to roll back"),
        (["rollback", "dataset:x"], 2, "dataset"),
        (["rollback", "table:deliveries"], 2, "say which version"),
        (["guard", "check", "--policy", "nope.yaml"], 50, "not found"),
        (["guard", "watch", "--policy", "guard.yaml", "--interval", "soon"], 2, "not a duration"),
    ],
)
def test_bad_input(make_workspace: Any, cli: Any, args: list[str], code: int, words: str) -> None:
    ws = make_workspace()
    (ws.root / "guard.yaml").write_text(POLICY)
    done = cli(*args, cwd=ws.root)
    assert done.code == code, (done.code, done.stdout, done.stderr)
    assert words in done.stderr


def test_table_rollback_is_a_restore_commit(make_workspace: Any, cli: Any) -> None:
    import pyarrow as pa

    ws = make_workspace()
    ws.tables.create("deliveries", pa.table({"id": [1, 2], "delay": [5, 7]}))
    ws.table("deliveries").append(pa.table({"id": [3], "delay": [999]}))
    done = cli(
        "rollback",
        "table:deliveries",
        "--to",
        "0",
        "--reason",
        "bad export",
        "--json",
        cwd=ws.root,
    )
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout) == {"from": "table:deliveries@1", "to": "table:deliveries@2"}
    table = ws.table("deliveries")
    assert table.at(2).to_arrow().column("id").to_pylist() == [1, 2]
    assert "bad export" in (table.history()[0].message or "")


def test_promotion_warns_when_the_version_it_replaces_could_not_come_back(
    make_workspace: Any, cli: Any
) -> None:
    ws = make_workspace()
    _two_production_versions(ws)
    write(ws.root / "train" / "model-3.json", json.dumps({"weights": [3]}))
    ws.models.register(MODEL, ws.root / "train" / "model-3.json")
    ws.store.remove(ws.models.show(f"model:{MODEL}@2").artifact_hash)

    done = cli("model", "promote", f"model:{MODEL}@3", "--stage", "production", cwd=ws.root)
    assert done.code == 0, done.stderr
    assert "warning: a rollback from it would not work" in done.stderr
    assert f"model:{MODEL}@2 artifact" in done.stderr
    assert ws.models.resolve(f"model:{MODEL}@production").number == 3


def test_the_rollback_ready_gate_refuses_the_promotion(make_workspace: Any, cli: Any) -> None:
    ws = make_workspace()
    _two_production_versions(ws)
    write(ws.root / "train" / "model-3.json", json.dumps({"weights": [3]}))
    ws.models.register(MODEL, ws.root / "train" / "model-3.json")
    ws.store.remove(ws.models.show(f"model:{MODEL}@2").artifact_hash)
    assert (
        cli(
            "config", "set", "registry.gates.production.require_rollback_ready", "true", cwd=ws.root
        ).code
        == 0
    )

    done = cli("model", "promote", f"model:{MODEL}@3", "--stage", "production", cwd=ws.root)
    assert_one_line_error(done, 31, "a rollback from it would not work")
    assert ws.models.resolve(f"model:{MODEL}@production").number == 2
    forced = cli(
        "model", "promote", f"model:{MODEL}@3", "--stage", "production", "--force",
        "--reason", "hotfix", cwd=ws.root,
    )  # fmt: skip
    assert forced.code == 0 and ws.models.resolve(f"model:{MODEL}@production").number == 3


@pytest.mark.slow
def test_two_guards_seeing_one_breach_roll_back_once(
    make_workspace: Any, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second guard starts while the first is still alerting (a slow alert command):
    without the first's claim it would roll back again, from version 1 to version 2."""
    import threading
    import time

    from factories import run_strata

    monkeypatch.setenv("STRATA_METADATA_URL", db_url)
    ws = make_workspace()
    _two_production_versions(ws)
    policy = _guard_files(ws, error_rate=0.5)
    policy.write_text(POLICY + "    alert:\n      command: sleep 3\n")
    outputs: list[str] = []

    def check() -> None:
        done = run_strata("guard", "check", "--policy", str(policy), "--json", cwd=ws.root)
        assert done.code == 0, done.stderr
        outputs.append(json.loads(done.stdout)[0]["outcome"])

    first = threading.Thread(target=check)
    first.start()
    time.sleep(1.5)  # the first is in its alert command by now
    check()
    first.join()
    assert sorted(outputs) == ["cooldown", "rolled_back"]
    assert ws.models.resolve(f"model:{MODEL}@production").number == 1
    assert [e.outcome for e in ws.guard.events(MODEL)] == ["rolled_back"]


@pytest.mark.slow
def test_watch_survives_a_failing_source_and_stops_on_sigterm(make_workspace: Any) -> None:
    import signal
    import subprocess
    import time

    from factories import STRATA

    ws = make_workspace()
    _two_production_versions(ws)
    policy = _guard_files(ws, error_rate=0.5)
    (ws.root / "metrics.json").write_text("{garbage")
    watcher = subprocess.Popen(
        [str(STRATA), "guard", "watch", "--policy", str(policy), "--interval", "1s"],
        cwd=ws.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(ws.guard.events(MODEL)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=15)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, err
    assert "guard stopped after" in out
    outcomes = {e.outcome for e in ws.guard.events(MODEL)}
    assert outcomes == {"no_data"}
    assert ws.models.resolve(f"model:{MODEL}@production").number == 2
