"""``LoggedModels``: MLflow 3's logged models, a model's artifacts logged in an experiment
(usually by a run) before any registration; registering one makes a Strata model version of
its artifacts.

    logged = ws.tracking.logged_models
    made = logged.create(experiment, name="model", source_run_id=run_id, creator="ana")
    logged.finalize(made.id, "READY")
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from strata.errors import LoggedModelNotFoundError, UserInputError
from strata.lineage.tracking_records import Experiment
from strata.meta.schema import tracking_logged_models

if TYPE_CHECKING:
    from strata.meta import MetadataDB

LoggedStatus = Literal["PENDING", "READY", "UPLOAD_FAILED"]
STATUSES: tuple[LoggedStatus, ...] = ("PENDING", "READY", "UPLOAD_FAILED")


@dataclass(frozen=True)
class LoggedModel:
    id: str
    experiment_id: int
    name: str
    source_run_id: str | None
    model_type: str | None
    status: LoggedStatus
    artifact_uri: str
    creator: str
    created_at: datetime
    updated_at: datetime
    tags: dict[str, str]
    params: dict[str, str]


def _model(row: sa.Row[Any]) -> LoggedModel:
    values = dict(row._mapping)
    values["tags"], values["params"] = json.loads(row.tags), json.loads(row.params)
    return LoggedModel(**values)


class LoggedModels:
    def __init__(self, db: MetadataDB, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def create(
        self,
        experiment: Experiment,
        *,
        name: str,
        creator: str,
        source_run_id: str | None = None,
        model_type: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> LoggedModel:
        if not name or len(name) > 250 or not name.isprintable():
            raise UserInputError(f"bad logged model name {name!r}")
        model_id = f"m-{uuid.uuid4().hex}"
        root = experiment.artifact_location.rstrip("/")
        now = self._clock()
        row = {
            "id": model_id, "experiment_id": experiment.id, "name": name,
            "source_run_id": source_run_id or None, "model_type": model_type,
            "status": "PENDING", "creator": creator, "created_at": now, "updated_at": now,
            "artifact_uri": f"{root}/models/{model_id}/artifacts",
            "tags": json.dumps(dict(tags or {})), "params": json.dumps(dict(params or {})),
        }  # fmt: skip
        with self._db.transaction("cannot create logged model", write=True) as c:
            c.execute(sa.insert(tracking_logged_models).values(**row))
        return self.get(model_id)

    def get(self, model_id: str) -> LoggedModel:
        query = sa.select(tracking_logged_models).where(tracking_logged_models.c.id == model_id)
        with self._db.transaction("cannot read logged model", write=False) as c:
            row = c.execute(query).first()
        if row is None:
            raise LoggedModelNotFoundError(f"logged model {model_id} does not exist")
        return _model(row)

    def search(self, experiment_ids: Sequence[int]) -> list[LoggedModel]:
        """The logged models of these experiments, newest first."""
        m = tracking_logged_models.c
        query = sa.select(tracking_logged_models).where(m.experiment_id.in_(list(experiment_ids)))
        with self._db.transaction("cannot list logged models", write=False) as c:
            rows = c.execute(query.order_by(m.created_at.desc(), m.id))
            return [_model(row) for row in rows]

    def change(
        self,
        model_id: str,
        *,
        status: LoggedStatus | None = None,
        tags: Mapping[str, str | None] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> LoggedModel:
        """Finalize (a status), set or delete (None) tags, add params."""
        current = self.get(model_id)
        values: dict[str, Any] = {"updated_at": self._clock()}
        if status is not None:
            values["status"] = status
        if tags:
            merged = {**current.tags, **tags}
            values["tags"] = json.dumps({k: v for k, v in merged.items() if v is not None})
        if params:
            values["params"] = json.dumps({**current.params, **params})
        statement = sa.update(tracking_logged_models).where(tracking_logged_models.c.id == model_id)
        with self._db.transaction("cannot change logged model", write=True) as c:
            c.execute(statement.values(**values))
        return self.get(model_id)

    def link_run(self, model_id: str, run_id: str) -> LoggedModel:
        """Name ``run_id`` as the run that produced the model (a run's logged output)."""
        current = self.get(model_id)
        if current.source_run_id not in (None, run_id):
            raise UserInputError(
                f"logged model {model_id} comes from run {current.source_run_id}, not {run_id}"
            )
        statement = sa.update(tracking_logged_models).where(tracking_logged_models.c.id == model_id)
        with self._db.transaction("cannot change logged model", write=True) as c:
            c.execute(statement.values(source_run_id=run_id, updated_at=self._clock()))
        return self.get(model_id)

    def of_runs(self, run_ids: Sequence[str]) -> list[LoggedModel]:
        m = tracking_logged_models.c
        query = sa.select(tracking_logged_models).where(m.source_run_id.in_(list(run_ids)))
        with self._db.transaction("cannot list logged models", write=False) as c:
            return [_model(row) for row in c.execute(query.order_by(m.created_at, m.id))]

    def delete(self, model_id: str) -> None:
        self.get(model_id)
        statement = sa.delete(tracking_logged_models).where(tracking_logged_models.c.id == model_id)
        with self._db.transaction("cannot delete logged model", write=True) as c:
            c.execute(statement)
