"""MLflow 3's logged models: ``/logged-models`` create, get, search, finalize, tags, params,
delete, and ``runs/outputs``. Their artifacts go through ``/mlflow-artifacts`` like a run's.

Reading needs a viewer; a change an editor on the model's experiment.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field

from strata.lineage.logged_models import LoggedModel, LoggedModels
from strata.server.auth import Caller, CallerDep
from strata.server.mlflow import search, shapes
from strata.server.mlflow.requests import Args, KeyValue, RunId, args_of
from strata.server.mlflow.tracking_routes import writable_run

router = APIRouter(tags=["mlflow"])
Ok = dict[str, Any]


def _models(caller: Caller) -> LoggedModels:
    return caller.ws.tracking.logged_models


def _writable(caller: Caller, model_id: str) -> LoggedModel:
    found = _models(caller).get(model_id)
    experiment = caller.ws.tracking.experiment(found.experiment_id)
    caller.require("write", f"experiment:{experiment.name}")
    return found


class CreateLoggedModel(Args):
    experiment_id: str
    name: str
    model_type: str | None = None
    source_run_id: str | None = None
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


class Finalize(Args):
    status: Literal["LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED", "LOGGED_MODEL_PENDING"]


class Order(Args):
    field_name: str
    ascending: bool = True


class SearchLoggedModels(Args):
    experiment_ids: list[str] = Field(default_factory=list)
    filter: str | None = None
    max_results: int | None = None
    order_by: list[Order] = Field(default_factory=list)
    page_token: str | None = None


class Tags(Args):
    tags: list[KeyValue] = Field(default_factory=list)


class Params(Args):
    params: list[KeyValue] = Field(default_factory=list)


class ModelOutput(Args):
    model_id: str
    step: int = 0


class LogOutputs(RunId):
    models: list[ModelOutput] = Field(default_factory=list)


@router.post("/logged-models")
def create(caller: CallerDep, args: Annotated[CreateLoggedModel, args_of(CreateLoggedModel)]) -> Ok:
    experiment = caller.ws.tracking.experiment(args.experiment_id)
    caller.require("write", f"experiment:{experiment.name}")
    if args.source_run_id:
        caller.ws.tracking.tracked_run(args.source_run_id)  # it must exist
    made = _models(caller).create(
        experiment,
        name=args.name,
        creator=caller.principal.name,
        source_run_id=args.source_run_id,
        model_type=args.model_type,
        tags=shapes.from_pairs(args.tags),
        params=shapes.from_pairs(args.params),
    )
    return {"model": shapes.logged_model(made)}


@router.api_route("/logged-models/search", methods=["GET", "POST"])
def search_models(
    caller: CallerDep, args: Annotated[SearchLoggedModels, args_of(SearchLoggedModels)]
) -> Ok:
    caller.require("read", "experiment:*")
    ids = [caller.ws.tracking.experiment(i).id for i in args.experiment_ids]
    found = search.matching(_models(caller).search(ids), args.filter, _value)
    order = [f"{o.field_name} {'ASC' if o.ascending else 'DESC'}" for o in args.order_by]
    found = search.ordered(found, order, _value)
    chunk, token = search.page(found, args.max_results, args.page_token)
    answer: Ok = {"models": [shapes.logged_model(m) for m in chunk]}
    if token:
        answer["next_page_token"] = token
    return answer


@router.get("/logged-models/{model_id}")
def get(model_id: str, caller: CallerDep) -> Ok:
    caller.require("read", "experiment:*")
    return {"model": shapes.logged_model(_models(caller).get(model_id))}


@router.patch("/logged-models/{model_id}")
def finalize(model_id: str, caller: CallerDep, args: Annotated[Finalize, args_of(Finalize)]) -> Ok:
    _writable(caller, model_id)
    status = args.status.removeprefix("LOGGED_MODEL_")
    changed = _models(caller).change(model_id, status=status)  # type: ignore[arg-type]
    return {"model": shapes.logged_model(changed)}


@router.delete("/logged-models/{model_id}")
def delete(model_id: str, caller: CallerDep) -> Ok:
    _writable(caller, model_id)
    _models(caller).delete(model_id)
    return {}


@router.patch("/logged-models/{model_id}/tags")
def set_tags(model_id: str, caller: CallerDep, args: Annotated[Tags, args_of(Tags)]) -> Ok:
    _writable(caller, model_id)
    _models(caller).change(model_id, tags=shapes.from_pairs(args.tags))
    return {}


@router.delete("/logged-models/{model_id}/tags/{tag_key}")
def delete_tag(model_id: str, tag_key: str, caller: CallerDep) -> Ok:
    _writable(caller, model_id)
    _models(caller).change(model_id, tags={tag_key: None})
    return {}


@router.post("/logged-models/{model_id}/params")
def log_params(model_id: str, caller: CallerDep, args: Annotated[Params, args_of(Params)]) -> Ok:
    _writable(caller, model_id)
    _models(caller).change(model_id, params=shapes.from_pairs(args.params))
    return {}


@router.post("/runs/outputs")
def log_outputs(caller: CallerDep, args: Annotated[LogOutputs, args_of(LogOutputs)]) -> Ok:
    """The logged models a run produced."""
    writable_run(caller, args.id())
    for output in args.models:
        _models(caller).link_run(output.model_id, args.id())
    return {}


def _value(found: LoggedModel, kind: str, key: str) -> Any:
    if kind == "tags":
        return found.tags.get(key)
    if kind == "params":
        return found.params.get(key)
    if kind != "attributes":
        return None
    info = shapes.logged_model(found)["info"]
    return info.get({"creation_time": "creation_timestamp_ms"}.get(key, key))
