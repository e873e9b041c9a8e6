"""``Tracking``: experiments, and runs as a tracking client (MLflow's) records them.

    tracking = ws.tracking
    experiment = tracking.create_experiment("train-clf")
    run = tracking.create_run(experiment.id, name="first", user="ana", start_ms=..., tags={})
    tracking.log(run.run.id, params={"lr": "0.1"}, metrics=[MetricPoint("loss", 0.3, ms, 1)])
    tracking.update_run(run.run.id, status="FINISHED", end_ms=...)

A tracked run *is* a Strata run (``lineage_runs``, ``run:ID``): its params and the latest value
of each metric are what ``strata run show`` prints; the tracking tables keep only what Strata's
run has no place for (experiment, tags, lifecycle, each metric's history).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from strata.errors import (
    AlreadyExistsError,
    ExperimentNotFoundError,
    LineageError,
    RunNotFoundError,
    UserInputError,
)
from strata.lineage import store
from strata.lineage import tracking_store as sql
from strata.lineage.ids import new_run_id
from strata.lineage.logged_models import LoggedModels
from strata.lineage.tracking_records import (
    KILLED,
    Experiment,
    ForeignRun,
    Lifecycle,
    MetricPoint,
    TrackedRun,
    TrackedStatus,
    latest_points,
)

if TYPE_CHECKING:
    from strata.meta import MetadataDB

View = Literal["active", "deleted", "all"]
VIEWS: dict[str, tuple[Lifecycle, ...]] = {
    "active": ("active",),
    "deleted": ("deleted",),
    "all": ("active", "deleted"),
}
RUN_NAME_TAG = "mlflow.runName"
_NONE: Mapping[str, str] = MappingProxyType({})
MAX_KEY = 250
MAX_PARAM = 6000
MAX_TAG = 8000


def _utc_now() -> datetime:
    return datetime.now(UTC)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class Tracking:
    def __init__(
        self, db: MetadataDB, *, namespace: str = "strata", clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self.db = db
        self.namespace = namespace
        self.clock = clock
        self.logged_models = LoggedModels(db, clock)

    @contextmanager
    def _writing(self, doing: str) -> Iterator[sa.Connection]:
        with self.db.transaction(f"cannot {doing}", write=True) as c:
            yield c

    # -- experiments ------------------------------------------------------------------------
    def create_experiment(
        self, name: str, *, artifact_location: str | None = None, tags: Mapping[str, str] = _NONE
    ) -> Experiment:
        """A new experiment; its artifacts default to the server's proxied root."""
        _check_key(name, "experiment name")
        for key, value in tags.items():
            _check_tag(key, value)
        with self._writing("create experiment") as c:
            if sql.experiment(c, name=name) is not None:
                raise AlreadyExistsError(f"experiment {name!r} exists already")
            new_id = sql.insert_experiment(c, name, artifact_location, tags, self.clock())
        return self.experiment(new_id)

    def experiment(self, id: int | str) -> Experiment:
        number = _experiment_id(id)
        with self.db.transaction("cannot read experiment", write=False) as c:
            found = sql.experiment(c, id=number)
        if found is None:
            raise ExperimentNotFoundError(f"experiment {id} does not exist")
        return found

    def experiment_named(self, name: str) -> Experiment:
        with self.db.transaction("cannot read experiment", write=False) as c:
            found = sql.experiment(c, name=name)
        if found is None:
            raise ExperimentNotFoundError(f"experiment {name!r} does not exist")
        return found

    def experiments(self, *, view: View = "active") -> list[Experiment]:
        with self.db.transaction("cannot list experiments", write=False) as c:
            return sql.experiments(c, VIEWS[view])

    def change_experiment(
        self,
        id: int | str,
        *,
        name: str | None = None,
        lifecycle: Lifecycle | None = None,
        tag: tuple[str, str] | None = None,
    ) -> Experiment:
        """Rename, delete or restore an experiment, or set one of its tags."""
        current = self.experiment(id)
        values: dict[str, Any] = {}
        if name is not None:
            _check_key(name, "experiment name")
            values["name"] = name
        if lifecycle is not None:
            values["lifecycle_stage"] = lifecycle
        if tag is not None:
            _check_tag(*tag)
            values["tags"] = {**current.tags, tag[0]: tag[1]}
        with self._writing("change experiment") as c:
            if name is not None and name != current.name and sql.experiment(c, name=name):
                raise AlreadyExistsError(f"experiment {name!r} exists already")
            sql.update_experiment(c, current.id, self.clock(), **values)
        return self.experiment(current.id)

    # -- runs -------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: int | str,
        *,
        name: str | None,
        user: str,
        start_ms: int | None,
        tags: Mapping[str, str] = _NONE,
        host: str = "",
    ) -> TrackedRun:
        """A new running Strata run in ``experiment_id``, its job the experiment's name."""
        experiment = self.experiment(experiment_id)
        if experiment.lifecycle_stage != "active":
            raise LineageError(f"experiment {experiment.name!r} is deleted; restore it first")
        for key, value in tags.items():
            _check_tag(key, value)
        started = from_ms(start_ms) if start_ms else self.clock()
        row, tracked = self._rows(experiment, name, user, started, tags, host)
        with self._writing("create run") as c:
            sql.insert_run(c, row, tracked)
        return self.tracked_run(row["id"])

    def _rows(
        self,
        experiment: Experiment,
        name: str | None,
        user: str,
        started: datetime,
        tags: Mapping[str, str],
        host: str,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The new run's Strata row and tracking row: running, nothing logged yet."""
        run_id = new_run_id(int(started.timestamp() * 1000))
        run_name = name or tags.get(RUN_NAME_TAG) or f"run-{run_id[-8:].lower()}"
        commit = tags.get("mlflow.source.git.commit")
        environment = {
            "host": host,
            "client": "mlflow",
            "git": {"commit": commit} if commit else None,
        }
        row = {
            "id": run_id, "job": experiment.name, "namespace": self.namespace,
            "status": "running", "started_at": started, "command": None, "params": {},
            "metrics": {}, "environment": environment, "git_commit": commit, "git_dirty": None,
            "host": host, "pid": None,
        }  # fmt: skip
        tracked = {
            "run_id": run_id, "experiment_id": experiment.id, "name": run_name, "user_id": user,
            "lifecycle_stage": "active",
            "artifact_uri": f"{experiment.artifact_location.rstrip('/')}/{run_id}/artifacts",
            "tags": {**tags, RUN_NAME_TAG: run_name},
        }  # fmt: skip
        return row, tracked

    def import_run(self, experiment_id: int, run: ForeignRun) -> TrackedRun:
        """Keep ``run``, recorded by another tracking server, as a Strata run: params, the
        whole metric history, tags, times, status and inputs, in one transaction."""
        experiment = self.experiment(experiment_id)
        for key, value in run.tags.items():
            _check_tag(key, value)
        for point in run.history:
            _check_metric(point)
        row, tracked = self._rows(
            experiment, run.name, run.user, from_ms(run.start_ms), run.tags, run.host
        )
        latest = {p.key: p.value for p in latest_points(list(run.history))}
        row.update(params=dict(run.params), metrics=latest)
        if run.status != "RUNNING":
            ended = from_ms(run.end_ms) if run.end_ms else row["started_at"]
            failed = run.status in ("FAILED", "KILLED")
            error = KILLED if run.status == "KILLED" else None
            row.update(status="failed" if failed else "completed", ended_at=ended, error=error)
        node = f"run:{row['id']}"
        with self._writing("import run") as c:
            sql.insert_run(c, row, tracked)
            sql.insert_points(c, row["id"], run.history)
            edges = [(ref, node, "input") for ref in run.inputs]
            store.add_edges(c, edges, run_id=row["id"], now=self.clock())
        return self.tracked_run(row["id"])

    def tagged_run(self, experiment_id: int, key: str, value: str) -> TrackedRun | None:
        """The run of the experiment whose tag ``key`` is ``value`` (e.g. where it came from)."""
        with self.db.transaction("cannot list runs", write=False) as c:
            ids = sql.run_ids_of(c, [experiment_id], VIEWS["all"])
        return next((r for r in self._runs(ids) if r.tags.get(key) == value), None)

    def tracked_run(self, run_id: str) -> TrackedRun:
        return self._runs([run_id], missing_is_error=True)[0]

    def _runs(self, run_ids: Sequence[str], *, missing_is_error: bool = False) -> list[TrackedRun]:
        with self.db.transaction("cannot read run", write=False) as c:
            found = sql.tracked_runs(c, run_ids)
        if missing_is_error and len(found) < len(run_ids):
            raise RunNotFoundError(f"run {run_ids[0]!r} does not exist")
        return found

    def runs(
        self, experiment_ids: Sequence[int | str], *, view: View = "active"
    ) -> list[TrackedRun]:
        """The runs of these experiments, newest first."""
        numbers = [self.experiment(i).id for i in experiment_ids]
        with self.db.transaction("cannot list runs", write=False) as c:
            ids = sql.run_ids_of(c, numbers, VIEWS[view])
        return self._runs(ids)

    def update_run(
        self,
        run_id: str,
        *,
        status: TrackedStatus | None = None,
        end_ms: int | None = None,
        name: str | None = None,
    ) -> TrackedRun:
        """End (FINISHED, FAILED, KILLED) or reopen (RUNNING) a run, or rename it."""
        if name:
            _check_key(name, "run name")
        ended = from_ms(end_ms) if end_ms else self.clock()
        with self._writing("update run") as c:
            current = _locked(c, run_id)
            if name:
                tags = {**current.tags, RUN_NAME_TAG: name}
                sql.update_tracked(c, run_id, name=name, tags=tags)
            if status in ("RUNNING", "SCHEDULED") and current.run.status != "running":
                sql.reopen_run(c, run_id)
            elif status in ("FINISHED", "FAILED", "KILLED"):
                if current.run.status != "running":
                    sql.reopen_run(c, run_id)  # a client may end a run twice; the last wins
                store.finish_run(
                    c, run_id, status="completed" if status == "FINISHED" else "failed",
                    ended_at=ended, exit_code=None, metrics=current.run.metrics, params=None,
                    error=KILLED if status == "KILLED" else None,
                )  # fmt: skip
        return self.tracked_run(run_id)

    def set_lifecycle(self, run_id: str, lifecycle: Lifecycle) -> None:
        """Delete a run (it stays, hidden from searches) or restore it."""
        self.tracked_run(run_id)
        with self._writing("change run") as c:
            sql.update_tracked(c, run_id, lifecycle_stage=lifecycle)

    def log(
        self,
        run_id: str,
        *,
        metrics: Sequence[MetricPoint] = (),
        params: Mapping[str, str] = _NONE,
        tags: Mapping[str, str] = _NONE,
    ) -> None:
        """Metrics, params and tags of a run, all checked first and stored in one transaction
        that holds the run's row, so concurrent calls for one run lose nothing. A param is
        logged once: the same key with another value is refused."""
        for point in metrics:
            _check_metric(point)
        for key, value in params.items():
            _check_key(key, "param name")
            _check_value(key, value, MAX_PARAM)
        for key, value in tags.items():
            _check_tag(key, value)
        with self._writing("log to run") as c:
            current = _locked(c, run_id)
            for key, value in params.items():
                old = current.run.params.get(key)
                if old is not None and str(old) != value:
                    raise UserInputError(
                        f"param {key!r} of run {run_id} is {old!r}; it cannot change to {value!r}",
                        hint="params are logged once per run; log a new key or start a new run",
                    )
            latest = {p.key: p.value for p in _merge(current.metrics, metrics)}
            sql.insert_points(c, run_id, metrics)
            merged_params = {**current.run.params, **params}
            sql.update_run_values(c, run_id, merged_params, {**current.run.metrics, **latest})
            if tags:
                new_tags = {**current.tags, **tags}
                name = tags.get(RUN_NAME_TAG, current.name)
                sql.update_tracked(c, run_id, tags=new_tags, name=name)

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._writing("delete tag") as c:
            current = _locked(c, run_id)
            if key not in current.tags:
                raise UserInputError(f"run {run_id} has no tag {key!r}")
            sql.update_tracked(c, run_id, tags={k: v for k, v in current.tags.items() if k != key})

    def metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        self.tracked_run(run_id)
        with self.db.transaction("cannot read metrics", write=False) as c:
            return sql.metric_points(c, [run_id], key).get(run_id, [])

    def log_inputs(self, run_id: str, refs: Sequence[str]) -> None:
        """Record what a run read (exact refs, e.g. ``dataset:NAME@DIGEST``) as its inputs."""
        self.tracked_run(run_id)
        node = f"run:{run_id}"
        with self._writing("record run inputs") as c:
            store.add_edges(c, [(r, node, "input") for r in refs], run_id=run_id, now=self.clock())


def _locked(c: sa.Connection, run_id: str) -> TrackedRun:
    """The run, its row locked for the rest of the transaction (PostgreSQL; a SQLite writer
    holds the database's write lock already)."""
    sql.lock_run(c, run_id)
    found = sql.tracked_runs(c, [run_id])
    if not found:
        raise RunNotFoundError(f"run {run_id!r} does not exist")
    return found[0]


def _merge(latest: Sequence[MetricPoint], new: Sequence[MetricPoint]) -> list[MetricPoint]:
    """The latest point of each key once ``new`` is logged after ``latest``."""
    return list(latest_points([*latest, *new]))


def _experiment_id(id: int | str) -> int:
    try:
        return int(id)
    except (TypeError, ValueError):
        raise ExperimentNotFoundError(f"experiment {id!r} does not exist") from None


def _check_key(key: str, what: str) -> None:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY or not key.isprintable():
        raise UserInputError(
            f"bad {what} {key!r}", hint=f"use up to {MAX_KEY} printable characters"
        )


def _check_value(key: str, value: str, limit: int) -> None:
    if not isinstance(value, str) or len(value) > limit:
        raise UserInputError(f"the value of {key!r} is not a string of up to {limit} characters")


def _check_tag(key: str, value: str) -> None:
    _check_key(key, "tag name")
    _check_value(key, value, MAX_TAG)


def _check_metric(point: MetricPoint) -> None:
    _check_key(point.key, "metric name")
    if isinstance(point.value, bool) or not math.isfinite(point.value):
        raise UserInputError(
            f"metric {point.key!r} is {point.value!r}, not a finite number",
            hint="Strata's runs keep finite metric values only",
        )
