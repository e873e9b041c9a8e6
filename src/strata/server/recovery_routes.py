"""``/api/v1/releases``, ``/api/v1/incidents``, ``/api/v1/rollback``: the answers of
``strata release list|show|diff --json`` and ``strata incident report --json``, a release's
rollback, and the cross-capability ``strata rollback [check]``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from strata.refs import parse_ref
from strata.server.auth import CallerDep

router = APIRouter(tags=["recovery"])


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, description="Why; kept in the trail.")


class RollbackTo(Reason):
    to: int | str | None = Field(None, description="The version to put back.")


@router.get("/releases")
def releases(caller: CallerDep) -> list[dict[str, Any]]:
    """Every release, oldest first."""
    caller.require("read", "release:*")
    return [r.to_json() for r in caller.ws.recovery.releases.all()]


@router.get("/releases/{name}")
def release(name: str, caller: CallerDep) -> dict[str, Any]:
    """What a release holds: model versions with stages and aliases, tables, files, commit."""
    caller.require("read", f"release:{name}")
    return caller.ws.recovery.releases.get(name).to_json()


@router.get("/releases/{a}/diff/{b}")
def release_diff(a: str, b: str, caller: CallerDep) -> dict[str, Any]:
    """What changed between two releases."""
    caller.require("read", f"release:{a}")
    caller.require("read", f"release:{b}")
    return caller.ws.recovery.releases.diff(a, b)


@router.post("/releases/{name}/rollback")
def release_rollback(name: str, caller: CallerDep, body: Reason | None = None) -> dict[str, Any]:
    """Put model stages, aliases and tables back to a release, all or nothing; needs
    ``promote`` on the release and on every model and table it holds."""
    caller.require("promote", f"release:{name}")
    recovery = caller.recovery()
    found = recovery.releases.get(name)
    for entry in found.models:
        caller.require("promote", f"model:{entry.name}")
    for table in found.tables:
        caller.require("promote", f"table:{table}")
    reason = None if body is None else body.reason
    return recovery.releases.rollback(name, reason=reason).to_json()


@router.get("/incidents")
def incidents(
    caller: CallerDep,
    since: Annotated[str, Query(description="An ISO time, or a duration back: 24h")],
    model: str | None = None,
    impact: Annotated[str | None, Query(description="Add an impact analysis of this ref")] = None,
) -> dict[str, Any]:
    """An incident report: promotions, guard checks, rollbacks, table commits, deployments."""
    from strata.recovery.incidents import parse_since

    caller.require("read", "model:*" if model is None else f"model:{model}")
    caller.require("read", "table:*")
    report = caller.ws.recovery.incident_report(
        since=parse_since(since), model=model, impact=impact
    )
    return report.to_json()


@router.get("/incidents/{guard_check}")
def incident(guard_check: int, caller: CallerDep) -> dict[str, Any]:
    """The incident a guard action opened (its check's id, from ``/guard/events``): the action,
    the timeline from a day before it, and the impact of the version it acted on."""
    caller.require("read", "model:*")
    caller.require("read", "table:*")
    event, report = caller.ws.recovery.incident(guard_check)
    return {"event": event.to_json(), **report.to_json()}


@router.get("/rollback/{ref:path}/readiness")
def readiness(
    ref: str, caller: CallerDep, to: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    """Would rolling the model back (to ``to``) work now, and put back a sound version?"""
    name = parse_ref(ref, expect="model").name
    caller.require("read", f"model:{name}")
    return caller.ws.recovery.readiness(name, to=to).to_json()


@router.post("/rollback/{ref:path}")
def roll_back(ref: str, caller: CallerDep, body: RollbackTo | None = None) -> dict[str, str]:
    """Roll a model back (after its readiness check) or a table (a restore commit)."""
    parsed = parse_ref(ref, expect=("model", "table"))
    caller.require("promote", f"{parsed.kind}:{parsed.name}")
    wanted = body or RollbackTo(to=None, reason=None)
    to = None if wanted.to is None else str(wanted.to)
    return caller.recovery().roll_back(parsed, to=to, reason=wanted.reason)
