"""MLflow's tracking API: experiments, runs, their metrics, params, tags and inputs.

Reading needs a viewer; a write an editor, on ``experiment:NAME`` (a grant there counts).
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field

from strata.lineage.mlflow_datasets import dataset_ref
from strata.lineage.tracking import Tracking, View
from strata.lineage.tracking_records import Experiment, MetricPoint, TrackedRun
from strata.server.auth import Caller, CallerDep
from strata.server.mlflow import search, shapes
from strata.server.mlflow.requests import Args, KeyValue, RunId, args_of

router = APIRouter(tags=["mlflow"])
ViewType = Literal["ACTIVE_ONLY", "DELETED_ONLY", "ALL"]
VIEWS: dict[str, View] = {"ACTIVE_ONLY": "active", "DELETED_ONLY": "deleted", "ALL": "all"}
Ok = dict[str, Any]


def _tracking(caller: Caller) -> Tracking:
    return caller.ws.tracking


def writable_run(caller: Caller, run_id: str) -> TrackedRun:
    """The run, once the caller may write into its experiment."""
    found = _tracking(caller).tracked_run(run_id)
    caller.require("write", f"experiment:{_tracking(caller).experiment(found.experiment_id).name}")
    return found


def _writable_experiment(caller: Caller, experiment_id: str) -> Experiment:
    found = _tracking(caller).experiment(experiment_id)
    caller.require("write", f"experiment:{found.name}")
    return found


# -- experiments ----------------------------------------------------------------------------
class CreateExperiment(Args):
    name: str
    artifact_location: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class ExperimentId(Args):
    experiment_id: str


class ExperimentName(Args):
    experiment_name: str


class UpdateExperiment(ExperimentId):
    new_name: str


class ExperimentTag(ExperimentId, KeyValue):
    pass


class SearchExperiments(Args):
    max_results: int | None = None
    page_token: str | None = None
    filter: str | None = None
    order_by: list[str] = Field(default_factory=list)
    view_type: ViewType = "ACTIVE_ONLY"


@router.post("/experiments/create")
def create_experiment(
    caller: CallerDep, args: Annotated[CreateExperiment, args_of(CreateExperiment)]
) -> Ok:
    caller.require("write", f"experiment:{args.name}")
    found = _tracking(caller).create_experiment(
        args.name,
        artifact_location=args.artifact_location or None,
        tags=shapes.from_pairs(args.tags),
    )
    return {"experiment_id": str(found.id)}


@router.get("/experiments/get")
def get_experiment(caller: CallerDep, args: Annotated[ExperimentId, args_of(ExperimentId)]) -> Ok:
    caller.require("read", "experiment:*")
    return {"experiment": shapes.experiment(_tracking(caller).experiment(args.experiment_id))}


@router.get("/experiments/get-by-name")
def get_experiment_by_name(
    caller: CallerDep, args: Annotated[ExperimentName, args_of(ExperimentName)]
) -> Ok:
    caller.require("read", "experiment:*")
    found = _tracking(caller).experiment_named(args.experiment_name)
    return {"experiment": shapes.experiment(found)}


@router.api_route("/experiments/search", methods=["GET", "POST"])
def search_experiments(
    caller: CallerDep, args: Annotated[SearchExperiments, args_of(SearchExperiments)]
) -> Ok:
    caller.require("read", "experiment:*")
    found = _tracking(caller).experiments(view=VIEWS[args.view_type])
    found = search.matching(found, args.filter, _experiment_value)
    found = search.ordered(found, args.order_by or ["creation_time DESC"], _experiment_value)
    chunk, token = search.page(found, args.max_results, args.page_token)
    return _with_token({"experiments": [shapes.experiment(e) for e in chunk]}, token)


@router.post("/experiments/delete")
def delete_experiment(
    caller: CallerDep, args: Annotated[ExperimentId, args_of(ExperimentId)]
) -> Ok:
    _writable_experiment(caller, args.experiment_id)
    _tracking(caller).change_experiment(args.experiment_id, lifecycle="deleted")
    return {}


@router.post("/experiments/restore")
def restore_experiment(
    caller: CallerDep, args: Annotated[ExperimentId, args_of(ExperimentId)]
) -> Ok:
    _writable_experiment(caller, args.experiment_id)
    _tracking(caller).change_experiment(args.experiment_id, lifecycle="active")
    return {}


@router.post("/experiments/update")
def update_experiment(
    caller: CallerDep, args: Annotated[UpdateExperiment, args_of(UpdateExperiment)]
) -> Ok:
    _writable_experiment(caller, args.experiment_id)
    caller.require("write", f"experiment:{args.new_name}")
    _tracking(caller).change_experiment(args.experiment_id, name=args.new_name)
    return {}


@router.post("/experiments/set-experiment-tag")
def set_experiment_tag(
    caller: CallerDep, args: Annotated[ExperimentTag, args_of(ExperimentTag)]
) -> Ok:
    _writable_experiment(caller, args.experiment_id)
    _tracking(caller).change_experiment(args.experiment_id, tag=args.pair())
    return {}


def _experiment_value(found: Experiment, kind: str, key: str) -> Any:
    if kind == "tags":
        return found.tags.get(key)
    values = {
        "name": found.name,
        "experiment_id": found.id,
        "creation_time": shapes.ms(found.created_at),
        "last_update_time": shapes.ms(found.updated_at),
    }
    return values.get(key) if kind == "attributes" else None


# -- runs -----------------------------------------------------------------------------------
class CreateRun(Args):
    experiment_id: str = "0"
    user_id: str | None = None
    run_name: str | None = None
    start_time: int | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class UpdateRun(RunId):
    status: Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"] | None = None
    end_time: int | None = None
    run_name: str | None = None


class Metric(Args):
    key: str
    value: float
    timestamp: int | None = None
    step: int = 0

    def point(self) -> MetricPoint:
        stamp = self.timestamp if self.timestamp is not None else int(time.time() * 1000)
        return MetricPoint(self.key, self.value, stamp, self.step)


class LogMetric(RunId, Metric):
    pass


class RunTag(RunId, KeyValue):
    pass


class DeleteTag(RunId):
    key: str


class LogBatch(RunId):
    metrics: list[Metric] = Field(default_factory=list)
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


class Dataset(Args):
    name: str
    digest: str = ""
    source_type: str = ""
    source: str = ""


class DatasetInput(Args):
    dataset: Dataset


class LogInputs(RunId):
    datasets: list[DatasetInput] = Field(default_factory=list)


class SearchRuns(Args):
    experiment_ids: list[str] = Field(default_factory=list)
    filter: str | None = None
    run_view_type: ViewType = "ACTIVE_ONLY"
    max_results: int | None = None
    order_by: list[str] = Field(default_factory=list)
    page_token: str | None = None


class MetricHistory(RunId):
    metric_key: str
    max_results: int | None = None
    page_token: str | None = None


@router.post("/runs/create")
def create_run(caller: CallerDep, args: Annotated[CreateRun, args_of(CreateRun)]) -> Ok:
    _writable_experiment(caller, args.experiment_id)
    found = _tracking(caller).create_run(
        args.experiment_id,
        name=args.run_name,
        user=caller.principal.name,  # who authenticated, not what the client claims
        start_ms=args.start_time,
        tags=shapes.from_pairs(args.tags),
        host=caller.client or "",
    )
    return {"run": shapes.run(found)}


@router.get("/runs/get")
def get_run(caller: CallerDep, args: Annotated[RunId, args_of(RunId)]) -> Ok:
    caller.require("read", "experiment:*")
    return {"run": _runs(caller, [_tracking(caller).tracked_run(args.id())])[0]}


@router.post("/runs/update")
def update_run(caller: CallerDep, args: Annotated[UpdateRun, args_of(UpdateRun)]) -> Ok:
    writable_run(caller, args.id())
    found = _tracking(caller).update_run(
        args.id(), status=args.status, end_ms=args.end_time, name=args.run_name
    )
    return {"run_info": shapes.run_info(found)}


@router.post("/runs/delete")
def delete_run(caller: CallerDep, args: Annotated[RunId, args_of(RunId)]) -> Ok:
    writable_run(caller, args.id())
    _tracking(caller).set_lifecycle(args.id(), "deleted")
    return {}


@router.post("/runs/restore")
def restore_run(caller: CallerDep, args: Annotated[RunId, args_of(RunId)]) -> Ok:
    writable_run(caller, args.id())
    _tracking(caller).set_lifecycle(args.id(), "active")
    return {}


@router.post("/runs/log-metric")
def log_metric(caller: CallerDep, args: Annotated[LogMetric, args_of(LogMetric)]) -> Ok:
    writable_run(caller, args.id())
    _tracking(caller).log(args.id(), metrics=[args.point()])
    return {}


@router.post("/runs/log-parameter")
def log_param(caller: CallerDep, args: Annotated[RunTag, args_of(RunTag)]) -> Ok:
    writable_run(caller, args.id())
    _tracking(caller).log(args.id(), params=dict([args.pair()]))
    return {}


@router.post("/runs/set-tag")
def set_tag(caller: CallerDep, args: Annotated[RunTag, args_of(RunTag)]) -> Ok:
    writable_run(caller, args.id())
    _tracking(caller).log(args.id(), tags=dict([args.pair()]))
    return {}


@router.post("/runs/delete-tag")
def delete_tag(caller: CallerDep, args: Annotated[DeleteTag, args_of(DeleteTag)]) -> Ok:
    writable_run(caller, args.id())
    _tracking(caller).delete_tag(args.id(), args.key)
    return {}


@router.post("/runs/log-batch")
def log_batch(caller: CallerDep, args: Annotated[LogBatch, args_of(LogBatch)]) -> Ok:
    writable_run(caller, args.id())
    _tracking(caller).log(
        args.id(),
        metrics=[m.point() for m in args.metrics],
        params=shapes.from_pairs(args.params),
        tags=shapes.from_pairs(args.tags),
    )
    return {}


@router.post("/runs/log-inputs")
def log_inputs(caller: CallerDep, args: Annotated[LogInputs, args_of(LogInputs)]) -> Ok:
    """The datasets a run read, as its Strata inputs: a Strata ref when the source names one
    (``table:deliveries@47``), else ``dataset:mlflow/NAME@DIGEST``."""
    writable_run(caller, args.id())
    refs = [dataset_ref(i.dataset.name, i.dataset.digest, i.dataset.source)
            for i in args.datasets]  # fmt: skip
    _tracking(caller).log_inputs(args.id(), [caller.ws.lineage.exact(r) for r in refs])
    return {}


@router.api_route("/runs/search", methods=["GET", "POST"])
def search_runs(caller: CallerDep, args: Annotated[SearchRuns, args_of(SearchRuns)]) -> Ok:
    caller.require("read", "experiment:*")
    found = _tracking(caller).runs(args.experiment_ids, view=VIEWS[args.run_view_type])
    found = search.matching(found, args.filter, _run_value)
    found = search.ordered(found, args.order_by, _run_value)
    chunk, token = search.page(found, args.max_results, args.page_token)
    return _with_token({"runs": _runs(caller, chunk)}, token)


@router.get("/metrics/get-history")
def metric_history(caller: CallerDep, args: Annotated[MetricHistory, args_of(MetricHistory)]) -> Ok:
    caller.require("read", "experiment:*")
    points = _tracking(caller).metric_history(args.id(), args.metric_key)
    chunk, token = search.page(points, args.max_results, args.page_token)
    return _with_token({"metrics": [shapes.metric(p) for p in chunk]}, token)


def _run_value(found: TrackedRun, kind: str, key: str) -> Any:
    if kind == "metrics":
        return next((p.value for p in found.metrics if p.key == key), None)
    if kind == "params":
        return found.run.params.get(key)
    if kind == "tags":
        return found.tags.get(key)
    info = shapes.run_info(found)
    return info.get({"name": "run_name", "id": "run_id"}.get(key, key))


def _runs(caller: Caller, found: list[TrackedRun]) -> list[Ok]:
    """Runs in MLflow's shape, each with the logged models it produced."""
    models = _tracking(caller).logged_models.of_runs([r.run.id for r in found])
    return [shapes.run(r, [m for m in models if m.source_run_id == r.run.id]) for r in found]


def _with_token(answer: Ok, token: str) -> Ok:
    if token:
        answer["next_page_token"] = token
    return answer
