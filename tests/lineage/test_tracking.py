"""``Tracking``: experiments, and runs as MLflow's tracking API records them, stored as Strata
runs, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from strata.errors import (
    AlreadyExistsError,
    ExperimentNotFoundError,
    LineageError,
    RunNotFoundError,
    UserInputError,
)
from strata.lineage.service import Lineage
from strata.lineage.tracking import Tracking
from strata.lineage.tracking_records import MetricPoint
from strata.meta import MetadataDB, open_database


@pytest.fixture
def db(db_url: str) -> Iterator[MetadataDB]:
    database = open_database(db_url)
    yield database
    database.close()


def test_experiments_are_created_found_renamed_and_deleted(db: MetadataDB) -> None:
    tracking = Tracking(db)
    assert [e.name for e in tracking.experiments()] == ["Default"]
    assert tracking.experiment(0).artifact_location == "mlflow-artifacts:/0"
    made = tracking.create_experiment("train", tags={"team": "ml"})
    assert made.artifact_location == f"mlflow-artifacts:/{made.id}"
    assert tracking.experiment_named("train") == made
    with pytest.raises(AlreadyExistsError):
        tracking.create_experiment("train")
    with pytest.raises(AlreadyExistsError):
        tracking.change_experiment(made.id, name="Default")
    assert tracking.change_experiment(made.id, name="fit").name == "fit"
    tracking.change_experiment(made.id, lifecycle="deleted")
    assert [e.name for e in tracking.experiments(view="deleted")] == ["fit"]
    with pytest.raises(LineageError, match="deleted"):
        tracking.create_run(made.id, name=None, user="ana", start_ms=None)
    with pytest.raises(ExperimentNotFoundError):
        tracking.experiment("nope")


def test_a_tracked_run_is_a_strata_run(db: MetadataDB, tmp_path: Path) -> None:
    tracking = Tracking(db)
    run = tracking.create_run(0, name="first", user="ana", start_ms=1_700_000_000_000)
    run_id = run.run.id
    points = [MetricPoint("loss", 0.9, 1, 0), MetricPoint("loss", 0.3, 3, 2)]
    tracking.log(run_id, params={"lr": "0.1"}, metrics=[*points, MetricPoint("loss", 0.5, 2, 1)])
    tracking.log(run_id, tags={"team": "ml"}, params={"lr": "0.1"})  # the same value again
    with pytest.raises(UserInputError, match="cannot change"):
        tracking.log(run_id, params={"lr": "0.2"})
    with pytest.raises(UserInputError, match="finite"):
        tracking.log(run_id, metrics=[MetricPoint("loss", float("nan"), 4, 3)])
    ended = tracking.update_run(run_id, status="FINISHED", end_ms=1_700_000_001_000)
    assert ended.status == "FINISHED" and ended.run.status == "completed"
    assert [(p.key, p.value, p.step) for p in ended.metrics] == [("loss", 0.3, 2)]
    assert [p.step for p in tracking.metric_history(run_id, "loss")] == [0, 2, 1]
    assert ended.tags == {"team": "ml", "mlflow.runName": "first"}
    record = Lineage(db, tmp_path).run(run_id)  # what `strata run show` prints
    assert (record.job, record.params, record.metrics) == ("Default", {"lr": "0.1"}, {"loss": 0.3})
    assert tracking.update_run(run_id, status="KILLED").status == "KILLED"
    tracking.set_lifecycle(run_id, "deleted")
    assert tracking.runs([0]) == []
    assert [r.run.id for r in tracking.runs([0], view="deleted")] == [run_id]
    with pytest.raises(RunNotFoundError):
        tracking.tracked_run("no-such-run")


def test_concurrent_logging_into_one_run_loses_nothing(db: MetadataDB) -> None:
    tracking = Tracking(db)
    run_id = tracking.create_run(0, name="busy", user="ana", start_ms=None).run.id

    def log(i: int) -> None:
        tracking.log(run_id, params={f"p{i}": str(i)}, metrics=[MetricPoint(f"m{i}", i, i, 0)])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(log, range(16)))
    found = tracking.tracked_run(run_id)
    assert found.run.params == {f"p{i}": str(i) for i in range(16)}
    assert found.run.metrics == {f"m{i}": float(i) for i in range(16)}
