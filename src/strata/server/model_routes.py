"""``/api/v1/models``, ``/api/v1/audit``: the registry, as ``strata model ... --json`` shows it.

Reading needs a viewer; a change needs an editor, and a maintainer (``promote`` on the model)
when it touches production, moves or removes with ``force``, protects an alias or rolls back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from strata.errors import UserInputError
from strata.models.registry import parse_stage
from strata.refs import parse_ref
from strata.server.auth import CallerDep

router = APIRouter(tags=["models"])
PROTECTED_STAGES = ("production",)


class StageChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: str = Field(description="none, staging, production or archived")
    reason: str | None = Field(None, description="Why; kept in the trail.")
    keep_existing: bool = Field(False, description="Do not archive the current holder.")
    force: bool = Field(False, description="Override failed gates; needs a reason.")


class AliasChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int | str = Field(description="A version number or any selector: 3, production")
    reason: str | None = None
    protected: bool = Field(False, description="Moving it later needs force.")
    force: bool = Field(False, description="Move a protected alias; needs a reason.")


class Rollback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: int | str | None = Field(None, description="The version to put back.")
    reason: str | None = None


def model_name(text: str) -> str:
    """A model name from the path, checked like a ref's (``NAME`` or ``model:NAME``)."""
    ref = parse_ref(text if text.startswith("model:") else f"model:{text}", expect="model")
    if ref.selector is not None:
        raise UserInputError(f"{text!r} names a version", hint=f"give the model: {ref.name}")
    return ref.name


def version_ref(name: str, selector: int | str) -> str:
    return f"model:{model_name(name)}@{str(selector).removeprefix('@')}"


@router.get("/models")
def list_models(caller: CallerDep) -> list[dict[str, object]]:
    """Every registered model: versions, latest, production."""
    caller.require("read", "model:*")
    return [m.to_dict() for m in caller.ws.models.list_models()]


@router.get("/models/{name}/versions")
def versions(
    name: str,
    caller: CallerDep,
    stage: str | None = None,
    semver: Annotated[str | None, Query(description="A range, e.g. >=1.0.0,<2.0.0")] = None,
    sort: Annotated[str, Query(description="number, semver or created")] = "number",
    desc: bool = False,
    limit: Annotated[int | None, Query(ge=0)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, object]]:
    """Versions of a model, filtered, sorted and paginated."""
    caller.require("read", f"model:{model_name(name)}")
    found = caller.ws.models.versions(
        model_name(name), stage=stage, semver_range=semver, sort=sort, descending=desc,
        limit=limit, offset=offset,
    )  # fmt: skip
    return [v.to_dict() for v in found]


@router.get("/models/{name}/versions/{v}")
def show(name: str, v: str, caller: CallerDep) -> dict[str, object]:
    """One version, named by number or any selector (production, champion, v1.2.0)."""
    caller.require("read", f"model:{model_name(name)}")
    return caller.ws.models.show(version_ref(name, v)).to_dict()


@router.get("/models/{name}/history")
def history(name: str, caller: CallerDep) -> list[dict[str, object]]:
    """The model's audit trail, oldest first."""
    caller.require("read", f"model:{model_name(name)}")
    return [e.to_dict() for e in caller.ws.models.history(model_name(name))]


@router.post("/models/{name}/versions/{v}/stage")
def stage(name: str, v: str, body: StageChange, caller: CallerDep) -> dict[str, object]:
    """Move a version to a stage; production (in or out) and force need a maintainer."""
    target = f"model:{model_name(name)}"
    caller.require("write", target)
    wanted = parse_stage(body.stage)
    current = caller.ws.models.show(version_ref(name, v))
    if body.force or wanted in PROTECTED_STAGES or current.stage in PROTECTED_STAGES:
        caller.require("promote", target)
    result = caller.registry().promote(
        current.ref, wanted, reason=body.reason, keep_existing=body.keep_existing,
        force=body.force,
    )  # fmt: skip
    return result.to_dict()


@router.put("/models/{name}/aliases/{alias}")
def set_alias(name: str, alias: str, body: AliasChange, caller: CallerDep) -> dict[str, object]:
    """Point an alias at a version; a protected alias moves only with force (a maintainer)."""
    target = f"model:{model_name(name)}"
    caller.require("write", target)
    if body.protected or body.force:
        caller.require("promote", target)
    result = caller.registry().set_alias(
        version_ref(name, body.version), alias, protected=body.protected, force=body.force,
        reason=body.reason,
    )  # fmt: skip
    return result.to_dict()


@router.delete("/models/{name}/aliases/{alias}")
def remove_alias(
    name: str, alias: str, caller: CallerDep, force: bool = False, reason: str | None = None
) -> dict[str, object]:
    """Remove an alias; a protected one only with force (a maintainer)."""
    target = f"model:{model_name(name)}"
    caller.require("write", target)
    if force:
        caller.require("promote", target)
    result = caller.registry().remove_alias(model_name(name), alias, force=force, reason=reason)
    return result.to_dict()


@router.post("/models/{name}/rollback")
def rollback(name: str, caller: CallerDep, body: Rollback | None = None) -> dict[str, object]:
    """Put back the previous production version (from the trail), or ``to``."""
    caller.require("promote", f"model:{model_name(name)}")
    wanted = body or Rollback(to=None)
    to = None if wanted.to is None else str(wanted.to)
    return caller.registry().rollback(model_name(name), to=to, reason=wanted.reason).to_dict()


@router.get("/audit")
def audit(
    caller: CallerDep,
    model: str | None = None,
    since: Annotated[datetime | None, Query(description="An ISO time")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[dict[str, Any]]:
    """The registry's trail across models (or one), newest first."""
    name = None if model is None else model_name(model)
    caller.require("read", "model:*" if name is None else f"model:{name}")
    return [e.to_dict() for e in caller.ws.models.audit(model=name, since=since, limit=limit)]
