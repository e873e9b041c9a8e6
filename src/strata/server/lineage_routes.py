"""``/api/v1/lineage``, ``provenance``, ``impact``, ``compare``: the answers of
``strata lineage|provenance|impact|compare --json``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from strata.lineage.columns import split_column
from strata.server.auth import CallerDep, thing_of

router = APIRouter(tags=["lineage"])
WAYS: dict[str, Literal["upstream", "downstream", "both"]] = {
    "up": "upstream",
    "down": "downstream",
    "both": "both",
}


@router.get("/lineage/{ref:path}")
def lineage(
    ref: str,
    caller: CallerDep,
    direction: Annotated[Literal["up", "down", "both"], Query()] = "both",
    depth: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> dict[str, Any]:
    """The lineage graph around a version or range, up, down or both ways."""
    caller.require("read", thing_of(ref))
    return caller.ws.lineage.graph(ref, direction=WAYS[direction], depth=depth).to_dict()


@router.get("/provenance/{ref:path}")
def provenance(ref: str, caller: CallerDep) -> dict[str, Any]:
    """Data → features → code → run → model → serving, for one version."""
    caller.require("read", thing_of(ref))
    return caller.ws.lineage.provenance(ref)


@router.get("/impact/{ref:path}")
def impact(ref: str, caller: CallerDep, suggest: bool = False) -> dict[str, Any]:
    """Everything downstream of a version or range, or of one column of it
    (``table:deliveries@4#delay_min``, as ``%23``): runs, data, models, deployments."""
    caller.require("read", thing_of(split_column(ref)[0]))
    return caller.ws.lineage.impact(ref, suggest=suggest).to_dict()


@router.get("/compare")
def compare(a: str, b: str, caller: CallerDep) -> dict[str, Any]:
    """What changed between two versions: data, code, params, environment."""
    caller.require("read", thing_of(a))
    caller.require("read", thing_of(b))
    return caller.ws.lineage.compare(a, b)
