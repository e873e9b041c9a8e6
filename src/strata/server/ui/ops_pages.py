"""``/runs``, ``/guard``, ``/releases``, ``/incidents``: what ran, what the guard saw and did,
what shipped together, and the timeline around each time the guard acted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from strata.errors import GuardError
from strata.guard.policy import ModelPolicy
from strata.recovery.service import INCIDENT_OUTCOMES
from strata.server.ui.render import PageCallerDep, page

router = APIRouter(include_in_schema=False)
POLICY_FILE = "guard.yaml"  # the policy `strata guard check` is usually given, at the root


@router.get("/runs", response_class=HTMLResponse)
def runs(
    request: Request,
    caller: PageCallerDep,
    job: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> HTMLResponse:
    caller.require("read", "run:*")
    found = [r.to_dict() for r in caller.ws.lineage.runs(job=job, limit=limit)]
    return page(request, caller, "runs.html", runs=found, job=job)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run(request: Request, run_id: str, caller: PageCallerDep) -> HTMLResponse:
    caller.require("read", f"run:{run_id}")
    return page(request, caller, "run.html", run=caller.ws.lineage.run(run_id).to_dict())


@router.get("/guard", response_class=HTMLResponse)
def guard(request: Request, caller: PageCallerDep, model: str | None = None) -> HTMLResponse:
    """The policies in the workspace's guard.yaml, and every check, newest first."""
    caller.require("read", "model:*" if model is None else f"model:{model}")
    events = [e.to_json() for e in reversed(caller.ws.guard.events(model))]
    return page(
        request, caller, "guard.html", events=events, model=model,
        policies=_policies(caller.ws.root / POLICY_FILE), incidents=INCIDENT_OUTCOMES,
    )  # fmt: skip


def _policies(path: Path) -> dict[str, Any]:
    """The policy file's models and rules, or why it cannot be read (never an error page)."""
    from strata.guard.policy import load_policy

    if not path.is_file():
        return {"path": POLICY_FILE, "models": [], "problem": None}
    try:
        policy = load_policy(path)
    except GuardError as exc:
        return {"path": POLICY_FILE, "models": [], "problem": exc.one_line()}
    models = [_rule(p) for p in policy.models.values()]
    return {"path": POLICY_FILE, "models": models, "source": policy.source.kind, "problem": None}


def _rule(policy: ModelPolicy) -> dict[str, Any]:
    return {
        "model": policy.model,
        "when": policy.when,
        "conditions": [str(c) for c in policy.conditions],
        "action": policy.action,
        "window": str(policy.window),
        "cooldown": str(policy.cooldown),
    }


@router.get("/releases", response_class=HTMLResponse)
def releases(request: Request, caller: PageCallerDep) -> HTMLResponse:
    caller.require("read", "release:*")
    found = [r.to_json() for r in reversed(caller.ws.recovery.releases.all())]
    return page(request, caller, "releases.html", releases=found)


@router.get("/releases/{name}", response_class=HTMLResponse)
def release(request: Request, name: str, caller: PageCallerDep) -> HTMLResponse:
    caller.require("read", f"release:{name}")
    found = caller.ws.recovery.releases.get(name).to_json()
    return page(request, caller, "release.html", release=found)


@router.get("/incidents", response_class=HTMLResponse)
def incidents(request: Request, caller: PageCallerDep) -> HTMLResponse:
    """Each time the guard acted (rolled back, failed to, or alerted) is an incident."""
    caller.require("read", "model:*")
    acted = [e.to_json() for e in caller.ws.recovery.incidents()]
    return page(request, caller, "incidents.html", incidents=acted)


@router.get("/incidents/{event_id}", response_class=HTMLResponse)
def incident(request: Request, event_id: int, caller: PageCallerDep) -> HTMLResponse:
    """The guard's action, the timeline from a day before it, and what the version it acted
    on reached downstream."""
    caller.require("read", "model:*")
    caller.require("read", "table:*")
    event, report = caller.ws.recovery.incident(event_id)
    return page(request, caller, "incident.html", event=event.to_json(), report=report.to_json())
