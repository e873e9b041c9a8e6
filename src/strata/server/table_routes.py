"""``/api/v1/tables/{name}``: a version's rows, its stats, a diff between two versions — the
answers of ``strata table show|stats|diff --json``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from strata.server.auth import CallerDep
from strata.tables.catalog import check_name

router = APIRouter(tags=["tables"])
MAX_ROWS = 10_000  # rows one show answers at most


def table_ref(name: str, version: str | None) -> str:
    """``table:NAME@VERSION`` (``latest`` when no version), the name checked."""
    check_name(name)
    return f"table:{name}@{version or 'latest'}"


def split_names(text: str | None) -> list[str] | None:
    """``a,b`` as ``["a", "b"]``; None stays None."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


@router.get("/tables/{name}")
def show(
    name: str,
    caller: CallerDep,
    version: Annotated[str | None, Query(description="A number, an ISO time or latest")] = None,
    columns: Annotated[str | None, Query(description="Comma-separated columns")] = None,
    limit: Annotated[int, Query(ge=0, le=MAX_ROWS)] = 20,
) -> list[dict[str, Any]]:
    """Rows of one version, as ``strata table show --json`` prints them."""
    from strata.tables.stats import json_value

    caller.require("read", f"table:{name}")
    table, at = caller.ws.tables.version_of(table_ref(name, version))
    data = table.at(at).to_arrow(columns=split_names(columns), limit=limit)
    return [{k: json_value(v) for k, v in row.items()} for row in data.to_pylist()]


@router.get("/tables/{name}/stats")
def stats(
    name: str, caller: CallerDep, version: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    """Schema, counts and per-column stats of a version, from metadata (no data scan)."""
    caller.require("read", f"table:{name}")
    table, at = caller.ws.tables.version_of(table_ref(name, version))
    return table.stats(at).to_dict()


@router.get("/tables/{name}/diff")
def diff(
    name: str,
    caller: CallerDep,
    old: Annotated[str, Query(alias="from", description="The older version")],
    new: Annotated[str, Query(alias="to", description="The newer version")],
    key: Annotated[str | None, Query(description="Key columns for a row-level diff")] = None,
) -> dict[str, Any]:
    """What changed between two versions; with ``key``, which rows."""
    caller.require("read", f"table:{name}")
    found = caller.ws.tables.diff(
        table_ref(name, old), table_ref(name, new), key=split_names(key) or []
    )
    return found.to_dict()
