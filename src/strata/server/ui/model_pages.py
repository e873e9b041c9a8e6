"""``/models``, ``/models/{name}``, ``/models/{name}/{version}``: the registry's pages, from the
same dictionaries ``/api/v1/models`` answers with."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from strata.errors import ModelVersionNotFoundError
from strata.refs import STAGES
from strata.server.model_routes import model_name, version_ref
from strata.server.ui.render import PageCallerDep, page

router = APIRouter(include_in_schema=False)


@router.get("/models", response_class=HTMLResponse)
def models(request: Request, caller: PageCallerDep) -> HTMLResponse:
    """Every model: its latest version and who holds each stage and alias."""
    caller.require("read", "model:*")
    rows = []
    for summary in caller.ws.models.list_models():
        found = caller.ws.models.versions(summary.name)
        holders = {v.stage: v.number for v in found if v.stage != "none"}
        aliases = {alias: v.number for v in found for alias in v.aliases}
        latest = found[-1].to_dict() if found else None
        rows.append({**summary.to_dict(), "latest_version": latest, "stages": holders,
                     "aliases": aliases})  # fmt: skip
    return page(request, caller, "models.html", models=rows)


@router.get("/models/{name}", response_class=HTMLResponse)
def model(
    request: Request,
    name: str,
    caller: PageCallerDep,
    at: Annotated[datetime | None, Query(description="Production at this time")] = None,
) -> HTMLResponse:
    """Versions with their badges, metrics side by side, the trail, production at a time."""
    name = model_name(name)
    caller.require("read", f"model:{name}")
    found = caller.ws.models.versions(name)
    versions = [v.to_dict() for v in found]
    metrics = sorted({key for v in found for key in v.metrics})
    history = [e.to_dict() for e in reversed(caller.ws.models.history(name))]
    production_then: dict[str, Any] | None = None
    if at is not None:
        try:
            production_then = caller.ws.models.resolve(f"model:{name}@production", at=at).to_dict()
        except ModelVersionNotFoundError:
            production_then = {}
    return page(
        request, caller, "model.html", name=name, versions=versions, metrics=metrics,
        history=history, at=at, production_then=production_then,
        may_promote=caller.principal.may("promote", f"model:{name}"),
    )  # fmt: skip


@router.get("/models/{name}/{version}", response_class=HTMLResponse)
def model_version(request: Request, name: str, version: str, caller: PageCallerDep) -> HTMLResponse:
    """One version: signature, metrics, tags, artifact, the provenance chain, and the actions
    the caller's role allows."""
    name = model_name(name)
    target = f"model:{name}"
    caller.require("read", target)
    found = caller.ws.models.show(version_ref(name, version)).to_dict()
    provenance = caller.ws.lineage.provenance(str(found["ref"]))
    return page(
        request, caller, "version.html", name=name, v=found, provenance=provenance,
        stages=list(STAGES), may_write=caller.principal.may("write", target),
        may_promote=caller.principal.may("promote", target),
    )  # fmt: skip
