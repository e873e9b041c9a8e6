"""SQL on the tracking tables of ``strata.meta.schema`` (experiments, run fields, metric
history) and the parts of ``lineage_runs`` a tracking client changes (params, metrics, end)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from strata.lineage import store
from strata.lineage.tracking_records import (
    Experiment,
    Lifecycle,
    MetricPoint,
    TrackedRun,
    latest_points,
)
from strata.meta.schema import (
    lineage_runs,
    tracking_experiments,
    tracking_metrics,
    tracking_runs,
)


# -- experiments ----------------------------------------------------------------------------
def _experiment(row: sa.Row[Any]) -> Experiment:
    return Experiment(
        id=row.id,
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=row.lifecycle_stage,
        created_at=row.created_at,
        updated_at=row.updated_at,
        tags=json.loads(row.tags),
    )


def experiment(c: sa.Connection, *, id: int | None = None, name: str = "") -> Experiment | None:
    e = tracking_experiments.c
    where = e.id == id if id is not None else e.name == name
    row = c.execute(sa.select(tracking_experiments).where(where)).first()
    return None if row is None else _experiment(row)


def experiments(c: sa.Connection, stages: Sequence[Lifecycle]) -> list[Experiment]:
    e = tracking_experiments.c
    query = sa.select(tracking_experiments).where(e.lifecycle_stage.in_(list(stages)))
    return [_experiment(row) for row in c.execute(query.order_by(e.id))]


def insert_experiment(
    c: sa.Connection, name: str, location: str | None, tags: Mapping[str, str], now: datetime
) -> int:
    """A new experiment; ``location`` None names the proxied root, ``mlflow-artifacts:/ID``."""
    values = {
        "name": name,
        "artifact_location": location or "",
        "lifecycle_stage": "active",
        "created_at": now,
        "updated_at": now,
        "tags": json.dumps(dict(tags), sort_keys=True),
    }
    inserted = c.execute(sa.insert(tracking_experiments).values(**values)).inserted_primary_key
    assert inserted is not None
    new_id = int(inserted[0])
    if location is None:
        update_experiment(c, new_id, now, artifact_location=f"mlflow-artifacts:/{new_id}")
    return new_id


def update_experiment(c: sa.Connection, id: int, now: datetime, **values: Any) -> None:
    if "tags" in values:
        values["tags"] = json.dumps(values["tags"], sort_keys=True)
    statement = sa.update(tracking_experiments).where(tracking_experiments.c.id == id)
    c.execute(statement.values(updated_at=now, **values))


# -- runs -----------------------------------------------------------------------------------
def insert_run(c: sa.Connection, row: dict[str, Any], tracked: dict[str, Any]) -> None:
    store.insert_run(c, row)
    store.node_ids(c, [f"run:{row['id']}"])
    c.execute(sa.insert(tracking_runs).values({**tracked, "tags": json.dumps(tracked["tags"])}))


def tracked_runs(c: sa.Connection, run_ids: Sequence[str]) -> list[TrackedRun]:
    """The runs of ``run_ids`` that exist, in that order."""
    if not run_ids:
        return []
    r, t = lineage_runs.c, tracking_runs.c
    rows = {
        row.run_id: row
        for row in c.execute(sa.select(tracking_runs).where(t.run_id.in_(list(run_ids))))
    }
    query = sa.select(lineage_runs).where(r.id.in_(list(rows)))
    records = {row.id: row for row in c.execute(query)}
    edges = store.runs_edges(c, list(rows))
    points = metric_points(c, list(rows))
    found = []
    for run_id in run_ids:
        if run_id not in rows or run_id not in records:
            continue
        extra = rows[run_id]
        found.append(
            TrackedRun(
                run=store.run_from_row(records[run_id], *edges[run_id]),
                experiment_id=extra.experiment_id,
                name=extra.name,
                user_id=extra.user_id,
                lifecycle_stage=extra.lifecycle_stage,
                artifact_uri=extra.artifact_uri,
                tags=json.loads(extra.tags),
                metrics=latest_points(points.get(run_id, [])),
            )
        )
    return found


def lock_run(c: sa.Connection, run_id: str) -> None:
    query = sa.select(lineage_runs.c.id).where(lineage_runs.c.id == run_id)
    c.execute(query.with_for_update())


def run_ids_of(c: sa.Connection, experiment_ids: Sequence[int], stages: Sequence[str]) -> list[str]:
    """Ids of the runs in these experiments, newest first."""
    t = tracking_runs.c
    query = sa.select(t.run_id).where(
        t.experiment_id.in_(list(experiment_ids)), t.lifecycle_stage.in_(list(stages))
    )
    return list(c.execute(query.order_by(t.run_id.desc())).scalars())


def update_tracked(c: sa.Connection, run_id: str, **values: Any) -> None:
    if "tags" in values:
        values["tags"] = json.dumps(values["tags"], sort_keys=True)
    c.execute(sa.update(tracking_runs).where(tracking_runs.c.run_id == run_id).values(**values))


def update_run_values(
    c: sa.Connection, run_id: str, params: Mapping[str, Any], metrics: Mapping[str, float]
) -> None:
    """Store a run's params and latest metric values where ``strata run show`` reads them."""
    statement = sa.update(lineage_runs).where(lineage_runs.c.id == run_id)
    c.execute(
        statement.values(
            params=json.dumps(dict(params), sort_keys=True, default=str),
            metrics=json.dumps(dict(metrics), sort_keys=True),
        )
    )


def reopen_run(c: sa.Connection, run_id: str) -> None:
    statement = sa.update(lineage_runs).where(lineage_runs.c.id == run_id)
    c.execute(statement.values(status="running", ended_at=None, error=None, exit_code=None))


# -- metric history -------------------------------------------------------------------------
def insert_points(c: sa.Connection, run_id: str, points: Sequence[MetricPoint]) -> None:
    if points:
        rows = [
            {"run_id": run_id, "key": p.key, "value": p.value, "timestamp_ms": p.timestamp_ms,
             "step": p.step}
            for p in points
        ]  # fmt: skip
        c.execute(sa.insert(tracking_metrics), rows)


def metric_points(
    c: sa.Connection, run_ids: Sequence[str], key: str | None = None
) -> dict[str, list[MetricPoint]]:
    """Each run's metric points, oldest first (one key, or all)."""
    m = tracking_metrics.c
    query = sa.select(tracking_metrics).where(m.run_id.in_(list(run_ids)))
    if key is not None:
        query = query.where(m.key == key)
    by_run: dict[str, list[MetricPoint]] = {}
    for row in c.execute(query.order_by(m.id)):
        point = MetricPoint(row.key, row.value, row.timestamp_ms, row.step)
        by_run.setdefault(row.run_id, []).append(point)
    return by_run
