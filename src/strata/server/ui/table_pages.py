"""``/tables`` and ``/tables/{name}``: a table's history (who changed what, rows and schema),
its stats at a version, a diff between two versions, and what pins which versions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from strata.errors import StrataError
from strata.server.ui.render import PageCallerDep, page

router = APIRouter(include_in_schema=False)
SHOWN_VERSIONS = 25  # the newest versions the history shows, each with its schema change


@router.get("/tables", response_class=HTMLResponse)
def tables(request: Request, caller: PageCallerDep) -> HTMLResponse:
    caller.require("read", "table:*")
    rows = [t.to_dict() for t in caller.ws.tables.list()]
    return page(request, caller, "tables.html", tables=rows)


@router.get("/tables/{name}", response_class=HTMLResponse)
def table(
    request: Request,
    name: str,
    caller: PageCallerDep,
    version: str | None = None,
    diff_from: Annotated[str | None, Query(alias="from")] = None,
    diff_to: Annotated[str | None, Query(alias="to")] = None,
    key: str | None = None,
) -> HTMLResponse:
    caller.require("read", f"table:{name}")
    info = caller.ws.tables.info(name)
    handle = caller.ws.tables.open(info.name)
    history = with_changes(handle, [c.to_dict() for c in handle.history(SHOWN_VERSIONS + 1)])
    pins: dict[int, list[str]] = {}
    for pin in caller.ws.tables.pins(info.name):
        pins.setdefault(pin.version, []).append(pin.pinned_by)
    shown = handle.resolve(version) if version else handle.latest_version()
    stats = handle.stats(shown).to_dict()
    diff = None
    if diff_from and diff_to:
        keys = [k.strip() for k in (key or "").split(",") if k.strip()]
        diff = caller.ws.tables.diff(
            f"table:{info.name}@{diff_from}", f"table:{info.name}@{diff_to}", key=keys
        ).to_dict()
    return page(
        request, caller, "table.html", info=info.to_dict(), history=history[:SHOWN_VERSIONS],
        pins=pins, stats=stats, diff=diff, diff_from=diff_from, diff_to=diff_to, key=key,
    )  # fmt: skip


def with_changes(handle: Any, commits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each commit (newest first) with the rows it added or removed and how its schema moved,
    against the version before it."""
    schemas: dict[int, dict[str, str] | None] = {}
    for commit in commits:
        try:
            schemas[commit["version"]] = {
                f["name"]: f["type"] for f in handle.stats(commit["version"]).to_dict()["schema"]
            }
        except StrataError:  # a version vacuumed away still shows in the history
            schemas[commit["version"]] = None
    shown = []
    for newer, older in zip(commits, [*commits[1:], None], strict=True):
        change: dict[str, Any] = {"rows": None, "schema": []}
        if older is not None:
            if newer["row_count"] is not None and older["row_count"] is not None:
                change["rows"] = newer["row_count"] - older["row_count"]
            change["schema"] = schema_change(schemas[older["version"]], schemas[newer["version"]])
        shown.append({**newer, "change": change})
    return shown


def schema_change(old: dict[str, str] | None, new: dict[str, str] | None) -> list[str]:
    if old is None or new is None:
        return []
    added = [f"+{n} {t}" for n, t in new.items() if n not in old]
    removed = [f"-{n}" for n in old if n not in new]
    retyped = [f"{n}: {old[n]} → {t}" for n, t in new.items() if n in old and old[n] != t]
    return added + removed + retyped
