"""``Tracking.import_run``: a run another tracking server recorded, kept whole as a Strata run
in one transaction (what ``strata migrate mlflow`` does with each source run)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from strata.errors import UserInputError
from strata.lineage.tracking import Tracking
from strata.lineage.tracking_records import ForeignRun, MetricPoint
from strata.meta import MetadataDB, open_database


@pytest.fixture
def db(db_url: str) -> Iterator[MetadataDB]:
    database = open_database(db_url)
    yield database
    database.close()


def foreign(**changes: object) -> ForeignRun:
    values: dict[str, object] = {
        "name": "first", "user": "ana", "status": "FINISHED", "start_ms": 1_700_000_000_000,
        "end_ms": 1_700_000_060_000, "params": {"lr": "0.1"},
        "tags": {"team": "ml", "mlflow.source.git.commit": "c" * 40, "from": "abc"},
        "history": (MetricPoint("loss", 0.9, 1, 0), MetricPoint("loss", 0.3, 3, 1)),
        "inputs": ("dataset:mlflow/deliveries@9be1",),
    }  # fmt: skip
    return ForeignRun(**{**values, **changes})  # type: ignore[arg-type]


def test_an_imported_run_keeps_times_history_tags_and_inputs(db: MetadataDB) -> None:
    tracking = Tracking(db)
    experiment = tracking.create_experiment("train")
    made = tracking.import_run(experiment.id, foreign())
    record = made.run
    assert (record.job, record.status, record.params) == ("train", "completed", {"lr": "0.1"})
    assert record.metrics == {"loss": 0.3}
    assert record.started_at.timestamp() == 1_700_000_000
    assert record.ended_at is not None and record.ended_at.timestamp() == 1_700_000_060
    assert record.environment["git"] == {"commit": "c" * 40}
    assert record.inputs == ("dataset:mlflow/deliveries@9be1",)
    assert [p.value for p in tracking.metric_history(made.run.id, "loss")] == [0.9, 0.3]
    assert (made.name, made.user_id, made.tags["team"]) == ("first", "ana", "ml")
    assert tracking.tagged_run(experiment.id, "from", "abc") == tracking.tracked_run(made.run.id)
    assert tracking.tagged_run(experiment.id, "from", "other") is None


def test_a_killed_run_stays_killed(db: MetadataDB) -> None:
    tracking = Tracking(db)
    assert tracking.import_run(0, foreign(status="KILLED")).status == "KILLED"


def test_a_bad_point_writes_nothing(db: MetadataDB) -> None:
    tracking = Tracking(db)
    bad = foreign(history=(MetricPoint("loss", 0.9, 1, 0), MetricPoint("", math.nan, 2, 1)))
    with pytest.raises(UserInputError):
        tracking.import_run(0, bad)
    assert tracking.runs([0]) == []
