"""``/api/v1/refs`` and ``/api/v1/tables``: any ref made exact, and the table catalog."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from strata.refs import parse_ref
from strata.server.auth import CallerDep, thing_of
from strata.workspace import Workspace

router = APIRouter()


@router.get("/refs/{ref:path}", tags=["refs"])
async def resolve(ref: str, caller: CallerDep) -> dict[str, Any]:
    """The exact version a ref names now: ``model:clf@production`` → ``model:clf@3``."""
    caller.require("read", thing_of(ref))
    if parse_ref(ref).kind == "model":  # one indexed query: what serving systems ask most
        return await caller.query(exact, caller.ws, ref)
    return await run_in_threadpool(exact, caller.ws, ref)  # tables may read their files


def exact(ws: Workspace, text: str) -> dict[str, Any]:
    parsed = parse_ref(text)
    if parsed.kind == "model":
        return {"kind": "model", **ws.models.resolve(parsed).to_dict()}
    if parsed.kind == "table":
        table, version = ws.tables.version_of(parsed)
        ref = f"table:{table.name}@{version}"
        return {"kind": "table", "ref": ref, "name": table.name, "version": version}
    ref = ws.lineage.exact(text)
    found = parse_ref(ref)
    return {"kind": found.kind, "ref": ref, "name": found.name}


@router.get("/tables", tags=["tables"])
def list_tables(caller: CallerDep) -> list[dict[str, object]]:
    """Every table in the catalog: name, format, location."""
    caller.require("read", "table:*")
    return [t.to_dict() for t in caller.ws.tables.list()]


@router.get("/tables/{name}/history", tags=["tables"])
def table_history(
    name: str, caller: CallerDep, limit: Annotated[int | None, Query(ge=1)] = None
) -> list[dict[str, object]]:
    """Every version of a table, newest first: when, operation, user, run, rows; pinned."""
    caller.require("read", f"table:{name}")
    commits = caller.ws.tables.open(name).history(limit)
    pinned = {p.version for p in caller.ws.tables.pins(name)}
    return [{**c.to_dict(), "pinned": c.version in pinned} for c in commits]
