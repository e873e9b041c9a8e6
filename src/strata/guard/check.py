"""One guard check: read each model's serving metrics, decide, act, remember.

The rules that make it safe to leave running:

- A metric source that fails or answers garbage is ``no_data``: nothing is rolled back on
  missing data. A metric the source lacks counts as not breached, unless the policy says
  ``on_missing: breach``.
- After a rollback or an alert, the model is in cool-down: checks during it do nothing more.
- The rollback itself is the caller's (``ModelActions``): the workspace checks that the target
  version is ready (artifact present and verified) before it moves any stage, so a guard never
  rolls back to a broken version.
- Every check that breached, failed to read or acted is stored in ``guard_events``, with the
  metrics it read and the conditions that fired.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from strata.errors import GuardError, GuardEventNotFoundError, MetricSourceError, StrataError
from strata.guard.policy import AlertTargets, Condition, ModelPolicy, Policy
from strata.guard.sources import MetricSource, open_source

if TYPE_CHECKING:
    import sqlalchemy as sa

    from strata.meta import MetadataDB

Outcome = Literal[
    "ok",
    "no_data",
    "cooldown",
    "rolled_back",
    "rollback_failed",
    "alerted",
    "would_roll_back",
    "would_alert",
]
# Outcomes that start a cool-down; ``acting`` is a claim whose guard has not finished.
_ACTED = ("rolled_back", "alerted", "rollback_failed", "acting")


class ModelActions(Protocol):
    def rollback(self, model: str, *, reason: str, evidence: dict[str, Any]) -> tuple[str, str]:
        """Put back the previous Production version; returns (from_ref, to_ref)."""
        ...


@dataclass(frozen=True)
class Evaluation:
    model: str
    metrics: dict[str, float]
    missing: tuple[str, ...]
    fired: tuple[Condition, ...]
    breached: bool


@dataclass
class CheckOutcome:
    model: str
    outcome: Outcome
    evaluation: Evaluation | None
    message: str
    from_ref: str | None = None
    to_ref: str | None = None
    alerts: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        evaluation = self.evaluation
        return {
            "model": self.model,
            "outcome": self.outcome,
            "message": self.message,
            "metrics": evaluation.metrics if evaluation else {},
            "missing": list(evaluation.missing) if evaluation else [],
            "fired": [str(c) for c in evaluation.fired] if evaluation else [],
            "from": self.from_ref,
            "to": self.to_ref,
            "alerts": self.alerts,
        }


def evaluate(policy: ModelPolicy, metrics: dict[str, float]) -> Evaluation:
    """Which conditions fire on ``metrics``, and whether the policy counts that as a breach."""
    names = list(dict.fromkeys(c.metric for c in policy.conditions))
    missing = tuple(n for n in names if n not in metrics)
    fired = tuple(
        c
        for c in policy.conditions
        if (c.metric in metrics and c.holds(metrics[c.metric]))
        or (c.metric not in metrics and policy.on_missing == "breach")
    )
    breached = bool(fired) if policy.when == "any" else len(fired) == len(policy.conditions)
    return Evaluation(policy.model, dict(metrics), missing, fired, breached)


def _now() -> datetime:
    return datetime.now(UTC)


class Guard:
    """Checks policies against live metrics; remembers what it did in the metadata database."""

    def __init__(
        self,
        db: MetadataDB,
        actions: ModelActions,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._db = db
        self._actions = actions
        self._clock = clock

    def acting_with(self, actions: ModelActions) -> Guard:
        """This guard, its rollbacks done by ``actions`` (a server's caller's)."""
        return Guard(self._db, actions, clock=self._clock)

    def check(
        self,
        policy: Policy,
        *,
        base: Path,
        dry_run: bool = False,
        models: Iterable[str] | None = None,
    ) -> list[CheckOutcome]:
        """Evaluate every model of ``policy`` (or the ones named) once, and act on breaches."""
        names = list(models) if models is not None else list(policy.models)
        for name in names:
            if name not in policy.models:
                raise GuardError(
                    f"the policy {policy.path} has no model {name!r}",
                    hint=f"choose among {', '.join(policy.models)}",
                )
        source = open_source(policy.source, base)
        return [self._check_model(policy.models[name], source, dry_run) for name in names]

    def _check_model(
        self, policy: ModelPolicy, source: MetricSource, dry_run: bool
    ) -> CheckOutcome:
        metric_names = list(dict.fromkeys(c.metric for c in policy.conditions))
        try:
            metrics = source.read(policy.model, metric_names, policy.window)
        except MetricSourceError as exc:
            outcome = CheckOutcome(policy.model, "no_data", None, f"{exc.message}; nothing done")
            if not dry_run:
                self._record(outcome)
            return outcome
        evaluation = evaluate(policy, metrics)
        if not evaluation.breached:
            return CheckOutcome(policy.model, "ok", evaluation, _describe(evaluation))
        if dry_run:
            last, claim = self._last_action(policy.model), None
        else:
            last, claim = self._claim(policy)
        if claim is None and last is not None and self._clock() - last < policy.cooldown:
            until = (last + policy.cooldown).isoformat(timespec="seconds")
            message = f"breached, but in cool-down until {until}; nothing more done"
            return CheckOutcome(policy.model, "cooldown", evaluation, message)
        if dry_run:
            would: Outcome = "would_roll_back" if policy.action == "rollback" else "would_alert"
            verb = "roll back" if policy.action == "rollback" else "alert"
            return CheckOutcome(
                policy.model, would, evaluation, f"would {verb}: {_describe(evaluation)}"
            )
        outcome = self._act(policy, evaluation)
        outcome.alerts = send_alerts(policy.alert, outcome)
        self._record(outcome, claim)
        return outcome

    def _claim(self, policy: ModelPolicy) -> tuple[datetime | None, int | None]:
        """The model's last action, or — when it is out of cool-down — a claim to act now: an
        ``acting`` row written in the same transaction as the check, under a lock, so two
        guards that see the same breach at once do not both roll back. A guard that dies
        while acting leaves its claim, which counts as an action (the model cools down)."""
        import sqlalchemy as sa

        from strata.meta.schema import guard_events as t

        now = self._clock()
        with self._db.transaction("cannot record the guard check", write=True) as c:
            if c.dialect.name == "postgresql":
                key = sa.func.hashtext(f"strata-guard:{policy.model}")
                c.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
            last = self._last_action_in(c, policy.model)
            if last is not None and now - last < policy.cooldown:
                return last, None
            row = {
                "model": policy.model,
                "checked_at": now,
                "outcome": "acting",
                "fired_json": "[]",
                "metrics_json": "{}",
                "message": "acting on a breach",
            }
            claim: int = c.execute(t.insert().returning(t.c.id), row).scalar_one()
        return last, claim

    def _act(self, policy: ModelPolicy, evaluation: Evaluation) -> CheckOutcome:
        fired = _describe(evaluation)
        if policy.action == "alert":
            return CheckOutcome(policy.model, "alerted", evaluation, f"alert: {fired}")
        evidence = {
            "fired": [str(c) for c in evaluation.fired],
            "metrics": evaluation.metrics,
            "window": int(policy.window.total_seconds()),
        }
        try:
            from_ref, to_ref = self._actions.rollback(
                policy.model, reason=f"guard: {fired}", evidence=evidence
            )
        except StrataError as exc:
            return CheckOutcome(
                policy.model,
                "rollback_failed",
                evaluation,
                f"{fired}; rollback refused: {exc.one_line()}",
            )
        return CheckOutcome(
            policy.model,
            "rolled_back",
            evaluation,
            f"rolled back {from_ref} → {to_ref}: {fired}",
            from_ref,
            to_ref,
        )

    def _last_action(self, model: str) -> datetime | None:
        with self._db.transaction("cannot read the guard's history", write=False) as c:
            return self._last_action_in(c, model)

    @staticmethod
    def _last_action_in(c: sa.Connection, model: str) -> datetime | None:
        import sqlalchemy as sa

        from strata.meta.schema import guard_events

        query = (
            sa.select(sa.func.max(guard_events.c.checked_at))
            .where(guard_events.c.model == model)
            .where(guard_events.c.outcome.in_(_ACTED))
        )
        value: datetime | None = c.execute(query).scalar()
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def _record(self, outcome: CheckOutcome, claim: int | None = None) -> None:
        """Store what a check found and did; a claim's row becomes the final outcome."""
        from strata.meta.schema import guard_events

        evaluation = outcome.evaluation
        row = {
            "model": outcome.model,
            "checked_at": self._clock(),
            "outcome": outcome.outcome,
            "fired_json": json.dumps([str(c) for c in evaluation.fired] if evaluation else []),
            "metrics_json": json.dumps(evaluation.metrics if evaluation else {}),
            "from_ref": outcome.from_ref,
            "to_ref": outcome.to_ref,
            "message": outcome.message + "".join(f"; {a}" for a in outcome.alerts),
        }
        with self._db.transaction("cannot record the guard check", write=True) as c:
            if claim is None:
                c.execute(guard_events.insert(), row)
            else:
                c.execute(guard_events.update().where(guard_events.c.id == claim), row)

    def events(self, model: str | None = None, since: datetime | None = None) -> list[GuardEvent]:
        """Stored checks, oldest first."""
        import sqlalchemy as sa

        from strata.meta.schema import guard_events as t

        query = sa.select(t).order_by(t.c.checked_at, t.c.id)
        if model is not None:
            query = query.where(t.c.model == model)
        if since is not None:
            query = query.where(t.c.checked_at >= since)
        with self._db.transaction("cannot read the guard's history", write=False) as c:
            return [_event(row) for row in c.execute(query)]

    def event(self, event_id: int) -> GuardEvent:
        """One stored check, by the id its JSON carries."""
        import sqlalchemy as sa

        from strata.meta.schema import guard_events as t

        with self._db.transaction("cannot read the guard's history", write=False) as c:
            row = c.execute(sa.select(t).where(t.c.id == event_id)).first()
        if row is None:
            raise GuardEventNotFoundError(f"the guard has no check {event_id}")
        return _event(row)

    def watch(
        self,
        policy_loader: Callable[[], Policy],
        *,
        base: Path,
        interval: timedelta,
        stop: threading.Event,
        report: Callable[[list[CheckOutcome]], None],
        on_error: Callable[[StrataError], None],
    ) -> int:
        """Check every ``interval`` until ``stop`` is set; returns how many checks ran.

        The policy is loaded again before each check, so an edit takes effect without a
        restart; a check that fails (a broken edit, a database hiccup) is reported and the
        next one runs on schedule.
        """
        checks = 0
        while not stop.is_set():
            try:
                report(self.check(policy_loader(), base=base))
            except StrataError as exc:
                on_error(exc)
            checks += 1
            stop.wait(interval.total_seconds())
        return checks


@dataclass(frozen=True)
class GuardEvent:
    model: str
    checked_at: datetime
    outcome: str
    fired: list[str]
    metrics: dict[str, float]
    from_ref: str | None
    to_ref: str | None
    message: str
    id: int | None = None  # the stored check's number (None before it is stored)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "checked_at": self.checked_at.isoformat(),
            "outcome": self.outcome,
            "fired": self.fired,
            "metrics": self.metrics,
            "from": self.from_ref,
            "to": self.to_ref,
            "message": self.message,
        }


def _event(row: Any) -> GuardEvent:
    return GuardEvent(
        model=row.model,
        checked_at=row.checked_at,
        outcome=row.outcome,
        fired=json.loads(row.fired_json),
        metrics=json.loads(row.metrics_json),
        from_ref=row.from_ref,
        to_ref=row.to_ref,
        message=row.message,
        id=row.id,
    )


def _describe(evaluation: Evaluation) -> str:
    if evaluation.fired:
        parts = [
            f"{c} (is {evaluation.metrics[c.metric]:g})"
            if c.metric in evaluation.metrics
            else f"{c} (missing)"
            for c in evaluation.fired
        ]
        return ", ".join(parts)
    if evaluation.missing:
        return f"within limits; no value for {', '.join(evaluation.missing)}"
    return "within limits"


def send_alerts(targets: AlertTargets, outcome: CheckOutcome) -> list[str]:
    """Post the outcome to the webhook and/or pipe it to the command; one line per target.

    An alert that fails is reported, never raised: the rollback has already happened.
    """
    body = json.dumps({"source": "strata-guard", **outcome.to_json()}).encode()
    sent = []
    if targets.webhook:
        request = urllib.request.Request(
            targets.webhook,
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                sent.append(f"webhook answered {response.status}")
        except urllib.error.HTTPError as exc:
            exc.close()
            sent.append(f"webhook failed: HTTP {exc.code}")
        except (urllib.error.URLError, OSError) as exc:
            sent.append(f"webhook failed: {getattr(exc, 'reason', exc)}")
    if targets.command:
        try:
            done = subprocess.run(
                shlex.split(targets.command), input=body, capture_output=True, timeout=30
            )
            sent.append(f"command exited {done.returncode}")
        except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
            sent.append(f"command failed: {exc}")
    return sent
