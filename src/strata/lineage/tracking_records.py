"""Value objects of experiment tracking (what MLflow's tracking API reads and writes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from strata.lineage.records import RunRecord

Lifecycle = Literal["active", "deleted"]
TrackedStatus = Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]
KILLED = "killed"
"""The ``error`` of a Strata run that an MLflow client ended as KILLED."""


@dataclass(frozen=True)
class Experiment:
    id: int
    name: str
    artifact_location: str
    lifecycle_stage: Lifecycle
    created_at: datetime
    updated_at: datetime
    tags: dict[str, str]


@dataclass(frozen=True)
class MetricPoint:
    key: str
    value: float
    timestamp_ms: int
    step: int


@dataclass(frozen=True)
class TrackedRun:
    """A Strata run (``run``) with what a tracking client keeps beside it."""

    run: RunRecord
    experiment_id: int
    name: str
    user_id: str
    lifecycle_stage: Lifecycle
    artifact_uri: str
    tags: dict[str, str]
    metrics: tuple[MetricPoint, ...]
    """The latest point of each metric (highest step, then newest)."""

    @property
    def status(self) -> TrackedStatus:
        if self.run.status == "running":
            return "RUNNING"
        if self.run.status == "completed":
            return "FINISHED"
        if self.run.status == "failed" and self.run.error == KILLED:
            return "KILLED"
        return "FAILED"


def latest_points(points: list[MetricPoint]) -> tuple[MetricPoint, ...]:
    """The latest point of each key, the way MLflow picks a run's metric value."""
    latest: dict[str, MetricPoint] = {}
    for point in points:
        seen = latest.get(point.key)
        if seen is None or (point.step, point.timestamp_ms) >= (seen.step, seen.timestamp_ms):
            latest[point.key] = point
    return tuple(latest[key] for key in sorted(latest))


@dataclass(frozen=True)
class ForeignRun:
    """A run another tracking server recorded (MLflow's), to keep as a Strata run."""

    name: str
    user: str
    status: TrackedStatus
    start_ms: int
    end_ms: int | None
    params: Mapping[str, str]
    tags: Mapping[str, str]
    history: tuple[MetricPoint, ...]
    inputs: tuple[str, ...]
    """Exact refs of what the run read."""
    host: str = ""
