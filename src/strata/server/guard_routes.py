"""``/api/v1/guard``: what the guard found and did (``strata guard history --json``), and a
guard check run on the server (``strata guard check``) against a policy file of the served
workspace — a policy names metric sources and alert commands, so a client cannot send one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from strata.errors import UserInputError
from strata.meta.users import Action
from strata.paths import escape_reason, unsafe_reason
from strata.server.auth import CallerDep

router = APIRouter(tags=["guard"])
RESERVED = (".strata", ".git")  # folders of the workspace no policy is read from


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: str = Field(
        description="A policy YAML file, relative to the served workspace",
        examples=["guard.yaml"],
    )
    models: list[str] | None = Field(None, description="Only these models of the policy")
    dry_run: bool = Field(False, description="Say what it would do; needs only read")


@router.get("/guard/events")
def events(caller: CallerDep, model: str | None = None) -> list[dict[str, Any]]:
    """Stored checks, oldest first: breaches, rollbacks, alerts, unreadable sources."""
    caller.require("read", "model:*" if model is None else f"model:{model}")
    return [e.to_json() for e in caller.ws.guard.events(model)]


@router.post("/guard/check")
def check(body: Check, caller: CallerDep) -> list[dict[str, Any]]:
    """Read each model's metrics once and act on breaches: roll back or alert, then cool
    down. Acting needs ``promote`` on every model checked."""
    from strata.guard import load_policy

    problem = unsafe_reason(body.policy) or escape_reason(caller.ws.root, body.policy, RESERVED)
    if problem is not None:
        raise UserInputError(f"policy {body.policy!r}: {problem}", hint="name a workspace file")
    path = caller.ws.root / body.policy
    policy = load_policy(path)
    action: Action = "read" if body.dry_run else "promote"
    for name in body.models if body.models is not None else policy.models:
        caller.require(action, f"model:{name}")
    outcomes = caller.guard().check(
        policy, base=path.parent, dry_run=body.dry_run, models=body.models
    )
    return [o.to_json() for o in outcomes]
