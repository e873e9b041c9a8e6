"""MLflow's model registry over Strata's (``ws.models``): registered models, versions from
``runs:/``, ``models:/m-ID`` or ``mlflow-artifacts:/`` sources, stages, aliases, tags.

Permissions as on Strata's own API, on ``model:NAME``: reading needs a viewer, a change an
editor, and a maintainer (``promote``) when a stage change touches production. Strata keeps
every version: deleting or renaming models and versions is refused.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from strata.errors import UserInputError
from strata.models.records import ModelVersion
from strata.models.registry import parse_stage
from strata.server.auth import Caller, CallerDep
from strata.server.mlflow import registry_shapes as rs
from strata.server.mlflow import search, shapes, sources
from strata.server.mlflow.requests import Args, KeyValue, args_of
from strata.server.model_routes import PROTECTED_STAGES

router = APIRouter(tags=["mlflow"])
Ok = dict[str, Any]
DATA_KINDS = ("table:", "file:")  # a run's inputs that are a version's training data


class Name(Args):
    name: str


class CreateModel(Name):
    description: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class Search(Args):
    filter: str | None = None
    max_results: int | None = None
    order_by: list[str] = Field(default_factory=list)
    page_token: str | None = None


class LatestVersions(Name):
    stages: list[str] = Field(default_factory=list)


class Alias(Name):
    alias: str


class SetAlias(Alias):
    version: str


class Version(Name):
    version: str

    def ref(self) -> str:
        return f"model:{self.name}@{self.version}"


class CreateVersion(Name):
    source: str
    run_id: str | None = None
    model_id: str | None = None
    description: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class Transition(Version):
    stage: str
    archive_existing_versions: bool = False


class VersionTag(Version, KeyValue):
    pass


class DeleteVersionTag(Version):
    key: str


class UpdateVersion(Version):
    description: str | None = None


def _versions(caller: Caller, name: str) -> list[ModelVersion]:
    return caller.ws.models.versions(name)


def _registered(caller: Caller, name: str) -> Ok:
    summary = next((m for m in caller.ws.models.list_models() if m.name == name), None)
    if summary is None:
        caller.ws.models.versions(name)  # an unknown model says so
    assert summary is not None
    tags = caller.ws.models.model_tags(name)
    return rs.registered_model(summary, _versions(caller, name), tags)


# -- registered models ----------------------------------------------------------------------
@router.post("/registered-models/create")
def create_model(caller: CallerDep, args: Annotated[CreateModel, args_of(CreateModel)]) -> Ok:
    caller.require("write", f"model:{args.name}")
    caller.registry().create_model(args.name, description=args.description)
    if args.tags:
        caller.registry().tag_model(args.name, shapes.from_pairs(args.tags))
    return {"registered_model": _registered(caller, args.name)}


@router.get("/registered-models/get")
def get_model(caller: CallerDep, args: Annotated[Name, args_of(Name)]) -> Ok:
    caller.require("read", f"model:{args.name}")
    return {"registered_model": _registered(caller, args.name)}


@router.api_route("/registered-models/search", methods=["GET", "POST"])
def search_models(caller: CallerDep, args: Annotated[Search, args_of(Search)]) -> Ok:
    caller.require("read", "model:*")
    found = search.matching(caller.ws.models.list_models(), args.filter, _model_value)
    found = search.ordered(found, args.order_by or ["name ASC"], _model_value)
    chunk, token = search.page(found, args.max_results, args.page_token)
    answer: Ok = {"registered_models": [_registered(caller, m.name) for m in chunk]}
    if token:
        answer["next_page_token"] = token
    return answer


@router.patch("/registered-models/update")
def update_model(caller: CallerDep, args: Annotated[CreateModel, args_of(CreateModel)]) -> Ok:
    caller.require("write", f"model:{args.name}")
    if args.description is not None:
        caller.registry().describe(f"model:{args.name}", args.description)
    return {"registered_model": _registered(caller, args.name)}


@router.api_route("/registered-models/get-latest-versions", methods=["GET", "POST"])
def latest_versions(
    caller: CallerDep, args: Annotated[LatestVersions, args_of(LatestVersions)]
) -> Ok:
    """The newest version in each stage asked for (every stage when none is)."""
    caller.require("read", f"model:{args.name}")
    wanted = {parse_stage(s) for s in args.stages}
    newest: dict[str, ModelVersion] = {}
    for version in _versions(caller, args.name):
        if not wanted or version.stage in wanted:
            newest[version.stage] = version
    ordered = sorted(newest.values(), key=lambda v: v.number)
    return {"model_versions": [rs.model_version(v) for v in ordered]}


class ModelTag(Name, KeyValue):
    pass


class DeleteModelTag(Name):
    key: str


@router.post("/registered-models/set-tag")
def set_model_tag(caller: CallerDep, args: Annotated[ModelTag, args_of(ModelTag)]) -> Ok:
    caller.require("write", f"model:{args.name}")
    caller.registry().tag_model(args.name, dict([args.pair()]))
    return {}


@router.delete("/registered-models/delete-tag")
def delete_model_tag(
    caller: CallerDep, args: Annotated[DeleteModelTag, args_of(DeleteModelTag)]
) -> Ok:
    caller.require("write", f"model:{args.name}")
    caller.registry().tag_model(args.name, {}, remove=[args.key])
    return {}


@router.post("/registered-models/alias")
def set_alias(caller: CallerDep, args: Annotated[SetAlias, args_of(SetAlias)]) -> Ok:
    caller.require("write", f"model:{args.name}")
    caller.registry().set_alias(f"model:{args.name}@{args.version}", args.alias)
    return {}


@router.delete("/registered-models/alias")
def delete_alias(caller: CallerDep, args: Annotated[Alias, args_of(Alias)]) -> Ok:
    caller.require("write", f"model:{args.name}")
    caller.registry().remove_alias(args.name, args.alias)
    return {}


@router.get("/registered-models/alias")
def get_by_alias(caller: CallerDep, args: Annotated[Alias, args_of(Alias)]) -> Ok:
    caller.require("read", f"model:{args.name}")
    return {
        "model_version": rs.model_version(caller.ws.models.show(f"model:{args.name}@{args.alias}"))
    }


@router.api_route("/registered-models/rename", methods=["POST"])
@router.api_route("/registered-models/delete", methods=["DELETE"])
@router.api_route("/model-versions/delete", methods=["DELETE"])
def refuse_removal(caller: CallerDep, args: Annotated[Name, args_of(Name)]) -> Ok:
    caller.require("write", f"model:{args.name}")
    raise UserInputError(
        f"Strata keeps every model and version: {args.name!r} cannot be renamed or deleted",
        hint="archive a version instead (transition it to Archived)",
    )


# -- versions -------------------------------------------------------------------------------
@router.post("/model-versions/create")
def create_version(caller: CallerDep, args: Annotated[CreateVersion, args_of(CreateVersion)]) -> Ok:
    """A Strata version of the source's artifacts, linked to its run and trained on the
    tables and files the run logged as inputs; READY at once."""
    caller.require("write", f"model:{args.name}")
    ws = caller.ws
    source = f"models:/{args.model_id}" if args.model_id else args.source
    folder, logged = sources.folder_of(ws, source, args.run_id)
    run_id = args.run_id
    if logged is not None and run_id is None:
        run_id = ws.tracking.logged_models.get(logged).source_run_id
    tags = {**shapes.from_pairs(args.tags), rs.SOURCE_TAG: args.source}
    if logged is not None:
        tags[rs.LOGGED_MODEL_TAG] = logged
    run = None if run_id is None else ws.tracking.tracked_run(run_id).run
    data = [] if run is None else [r for r in run.inputs if r.startswith(DATA_KINDS)]
    version = caller.registry().register(
        args.name, sources.stored_folder(ws, folder), description=args.description, tags=tags,
        data=data, run=None if run is None else run.ref, allow_duplicate=True,
    )  # fmt: skip
    return {"model_version": rs.model_version(version)}


@router.get("/model-versions/get")
def get_version(caller: CallerDep, args: Annotated[Version, args_of(Version)]) -> Ok:
    caller.require("read", f"model:{args.name}")
    return {"model_version": rs.model_version(caller.ws.models.show(args.ref()))}


@router.api_route("/model-versions/search", methods=["GET", "POST"])
def search_versions(caller: CallerDep, args: Annotated[Search, args_of(Search)]) -> Ok:
    caller.require("read", "model:*")
    every = [v for m in caller.ws.models.list_models() for v in _versions(caller, m.name)]
    found = search.matching(every, args.filter, _version_value)
    found = search.ordered(found, args.order_by or ["version_number DESC"], _version_value)
    chunk, token = search.page(found, args.max_results, args.page_token)
    answer: Ok = {"model_versions": [rs.model_version(v) for v in chunk]}
    if token:
        answer["next_page_token"] = token
    return answer


@router.patch("/model-versions/update")
def update_version(caller: CallerDep, args: Annotated[UpdateVersion, args_of(UpdateVersion)]) -> Ok:
    caller.require("write", f"model:{args.name}")
    if args.description is not None:
        caller.registry().describe(args.ref(), args.description)
    return {"model_version": rs.model_version(caller.ws.models.show(args.ref()))}


@router.post("/model-versions/transition-stage")
def transition(caller: CallerDep, args: Annotated[Transition, args_of(Transition)]) -> Ok:
    """A Strata promotion: gates apply, a failed one is INVALID_STATE naming them."""
    target = f"model:{args.name}"
    caller.require("write", target)
    wanted = parse_stage(args.stage)
    current = caller.ws.models.show(args.ref())
    if wanted in PROTECTED_STAGES or current.stage in PROTECTED_STAGES:
        caller.require("promote", target)
    caller.registry().promote(current.ref, wanted, keep_existing=not args.archive_existing_versions)
    return {"model_version": rs.model_version(caller.ws.models.show(current.ref))}


@router.post("/model-versions/set-tag")
def set_version_tag(caller: CallerDep, args: Annotated[VersionTag, args_of(VersionTag)]) -> Ok:
    caller.require("write", f"model:{args.name}")
    caller.registry().tag(args.ref(), dict([args.pair()]))
    return {}


@router.delete("/model-versions/delete-tag")
def delete_version_tag(
    caller: CallerDep, args: Annotated[DeleteVersionTag, args_of(DeleteVersionTag)]
) -> Ok:
    caller.require("write", f"model:{args.name}")
    caller.registry().tag(args.ref(), remove=[args.key])
    return {}


@router.get("/model-versions/get-download-uri")
def download_uri(caller: CallerDep, args: Annotated[Version, args_of(Version)]) -> Ok:
    """Where the version's artifact is served from: the registry's own objects."""
    caller.require("read", f"model:{args.name}")
    return {"artifact_uri": rs.download_uri(caller.ws.models.show(args.ref()))}


def _model_value(found: Any, kind: str, key: str) -> Any:
    return found.name if kind == "attributes" and key == "name" else None


def _version_value(found: ModelVersion, kind: str, key: str) -> Any:
    if kind == "tags":
        return found.tags.get(key)
    values = {
        "name": found.name,
        "version_number": found.number,
        "run_id": (found.run or "").removeprefix("run:") or None,
        "source": found.tags.get(rs.SOURCE_TAG),
        "current_stage": rs.STAGE_NAMES[found.stage],
        "creation_timestamp": shapes.ms(found.created_at),
    }
    return values.get(key) if kind == "attributes" else None
