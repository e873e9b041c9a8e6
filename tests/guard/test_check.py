"""A guard check decides from live metrics, acts once, then rests for the cool-down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from strata.errors import RegistryError
from strata.guard import parse_policy
from strata.guard.check import Guard, evaluate
from strata.meta import MetadataDB, open_database

MODEL = "delay-classifier"
POLICY = f"""\
metrics:
  source: file
  path: metrics.json
models:
  {MODEL}:
    window: 30m
    when: any
    conditions:
      - error_rate > 0.05
      - p99_latency_ms > 200
    action: rollback
    cooldown: 1h
"""


class RecordingActions:
    """Stands in for the registry: records rollbacks, or refuses them like it would."""

    def __init__(self) -> None:
        self.rollbacks: list[tuple[str, str, dict[str, Any]]] = []
        self.refuse: str | None = None

    def rollback(self, model: str, *, reason: str, evidence: dict[str, Any]) -> tuple[str, str]:
        if self.refuse:
            raise RegistryError(self.refuse)
        self.rollbacks.append((model, reason, evidence))
        return f"model:{model}@2", f"model:{model}@1"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 3, 3, 14, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def db(db_url: str) -> Iterator[MetadataDB]:
    with open_database(db_url) as database:
        yield database


def _metrics(folder: Path, **values: float) -> None:
    (folder / "metrics.json").write_text(json.dumps({MODEL: values}))


def test_evaluate_any_and_all() -> None:
    policy = parse_policy(POLICY).models[MODEL]
    assert evaluate(policy, {"error_rate": 0.08, "p99_latency_ms": 100}).breached
    assert not evaluate(policy, {"error_rate": 0.01, "p99_latency_ms": 100}).breached
    all_policy = parse_policy(POLICY.replace("when: any", "when: all")).models[MODEL]
    assert not evaluate(all_policy, {"error_rate": 0.08, "p99_latency_ms": 100}).breached
    assert evaluate(all_policy, {"error_rate": 0.08, "p99_latency_ms": 300}).breached


def test_missing_metrics_do_not_breach_unless_the_policy_says_so() -> None:
    policy = parse_policy(POLICY).models[MODEL]
    evaluation = evaluate(policy, {})
    assert not evaluation.breached and evaluation.missing == ("error_rate", "p99_latency_ms")
    strict = parse_policy(POLICY.replace("cooldown: 1h", "cooldown: 1h\n    on_missing: breach"))
    assert evaluate(strict.models[MODEL], {}).breached


def test_a_breach_rolls_back_once_then_cools_down(db: MetadataDB, tmp_path: Path) -> None:
    actions, clock = RecordingActions(), Clock()
    guard = Guard(db, actions, clock=clock)
    policy = parse_policy(POLICY)
    _metrics(tmp_path, error_rate=0.08, p99_latency_ms=120)

    [first] = guard.check(policy, base=tmp_path)
    assert first.outcome == "rolled_back"
    assert (first.from_ref, first.to_ref) == (f"model:{MODEL}@2", f"model:{MODEL}@1")
    [(model, reason, evidence)] = actions.rollbacks
    assert model == MODEL and "error_rate > 0.05 (is 0.08)" in reason
    assert evidence["metrics"] == {"error_rate": 0.08, "p99_latency_ms": 120}
    assert evidence["fired"] == ["error_rate > 0.05"]

    clock.now += timedelta(minutes=30)
    [second] = guard.check(policy, base=tmp_path)
    assert second.outcome == "cooldown"
    assert len(actions.rollbacks) == 1

    clock.now += timedelta(minutes=31)
    [third] = guard.check(policy, base=tmp_path)
    assert third.outcome == "rolled_back"
    assert len(actions.rollbacks) == 2

    events = guard.events(MODEL)
    assert [e.outcome for e in events] == ["rolled_back", "rolled_back"]
    assert events[0].fired == ["error_rate > 0.05"]
    assert events[0].metrics["error_rate"] == 0.08


def test_within_limits_does_nothing(db: MetadataDB, tmp_path: Path) -> None:
    actions = RecordingActions()
    _metrics(tmp_path, error_rate=0.01, p99_latency_ms=120)
    [outcome] = Guard(db, actions).check(parse_policy(POLICY), base=tmp_path)
    assert outcome.outcome == "ok" and not actions.rollbacks
    assert Guard(db, actions).events() == []


def test_dry_run_says_what_it_would_do_and_does_nothing(db: MetadataDB, tmp_path: Path) -> None:
    actions = RecordingActions()
    guard = Guard(db, actions)
    _metrics(tmp_path, error_rate=0.08)
    [outcome] = guard.check(parse_policy(POLICY), base=tmp_path, dry_run=True)
    assert outcome.outcome == "would_roll_back"
    assert "error_rate > 0.05 (is 0.08)" in outcome.message
    assert not actions.rollbacks and guard.events() == []


def test_garbage_metrics_never_roll_back(db: MetadataDB, tmp_path: Path) -> None:
    actions = RecordingActions()
    guard = Guard(db, actions)
    (tmp_path / "metrics.json").write_text("{not json")
    [outcome] = guard.check(parse_policy(POLICY), base=tmp_path)
    assert outcome.outcome == "no_data" and not actions.rollbacks
    assert [e.outcome for e in guard.events()] == ["no_data"]


def test_a_refused_rollback_is_reported_and_alerted(
    db: MetadataDB, tmp_path: Path, json_endpoint: Any
) -> None:
    actions = RecordingActions()
    actions.refuse = "no version of 'delay-classifier' held production before version 1"
    policy = parse_policy(POLICY + f"    alert:\n      webhook: {json_endpoint.url}\n")
    _metrics(tmp_path, error_rate=0.08)
    [outcome] = Guard(db, actions).check(policy, base=tmp_path)
    assert outcome.outcome == "rollback_failed"
    assert "held production before" in outcome.message
    [(headers, body)] = json_endpoint.received
    assert headers["Content-Type"] == "application/json"
    alert = json.loads(body)
    assert alert["outcome"] == "rollback_failed" and alert["model"] == MODEL
    assert alert["fired"] == ["error_rate > 0.05"]


def test_alert_action_posts_and_runs_the_command(
    db: MetadataDB, tmp_path: Path, json_endpoint: Any
) -> None:
    received = tmp_path / "alert.json"
    command = f"tee {received}"
    policy = parse_policy(
        POLICY.replace("action: rollback", "action: alert")
        + f"    alert:\n      webhook: {json_endpoint.url}\n      command: {command}\n"
    )
    actions = RecordingActions()
    _metrics(tmp_path, p99_latency_ms=450)
    [outcome] = Guard(db, actions).check(policy, base=tmp_path)
    assert outcome.outcome == "alerted" and not actions.rollbacks
    assert outcome.alerts == ["webhook answered 200", "command exited 0"]
    assert json.loads(received.read_text())["fired"] == ["p99_latency_ms > 200"]
    assert len(json_endpoint.received) == 1


def test_an_unreachable_webhook_does_not_undo_the_rollback(db: MetadataDB, tmp_path: Path) -> None:
    from factories import free_port

    actions = RecordingActions()
    policy = parse_policy(
        POLICY + f"    alert:\n      webhook: http://127.0.0.1:{free_port()}/hook\n"
    )
    _metrics(tmp_path, error_rate=0.5)
    [outcome] = Guard(db, actions).check(policy, base=tmp_path)
    assert outcome.outcome == "rolled_back" and len(actions.rollbacks) == 1
    assert outcome.alerts[0].startswith("webhook failed")
