"""``/iceberg/v1/config`` and the namespaces: ``default`` (Strata's undotted tables), those a
dotted table name implies, and those clients create, with their properties."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from strata.server.auth import CallerDep
from strata.server.iceberg.errors import IcebergError
from strata.server.iceberg.names import (
    DEFAULT,
    JsonBody,
    Namespace,
    checked,
    identifier_of,
    namespace_of,
    parse,
)
from strata.tables.iceberg_namespaces import IcebergNamespaces
from strata.workspace import Workspace

router = APIRouter(tags=["iceberg"])
ANY_TABLE = "table:*"  # namespaces are the catalog's own: creating one needs editor on it
_SERVED = (
    "GET /v1/{prefix}/namespaces",
    "POST /v1/{prefix}/namespaces",
    "GET /v1/{prefix}/namespaces/{namespace}",
    "HEAD /v1/{prefix}/namespaces/{namespace}",
    "DELETE /v1/{prefix}/namespaces/{namespace}",
    "POST /v1/{prefix}/namespaces/{namespace}/properties",
    "GET /v1/{prefix}/namespaces/{namespace}/tables",
    "POST /v1/{prefix}/namespaces/{namespace}/tables",
    "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "POST /v1/{prefix}/namespaces/{namespace}/register",
    "POST /v1/{prefix}/tables/rename",
    "POST /v1/{prefix}/transactions/commit",
)


class CreateNamespace(BaseModel):
    namespace: list[str]
    properties: dict[str, str] = Field(default_factory=dict)


class UpdateProperties(BaseModel):
    removals: list[str] = Field(default_factory=list)
    updates: dict[str, str] = Field(default_factory=dict)


@router.get("/config")
def config(caller: CallerDep, warehouse: str | None = None) -> dict[str, Any]:
    """What the catalog serves; ``warehouse`` is ignored (one workspace, one catalog)."""
    caller.require("read", ANY_TABLE)
    return {"defaults": {}, "overrides": {}, "endpoints": list(_SERVED)}


@router.get("/namespaces")
def list_namespaces(caller: CallerDep, parent: str | None = None) -> dict[str, Any]:
    caller.require("read", ANY_TABLE)
    above = () if parent is None else namespace_of(parent)
    known = namespaces(caller.ws)
    if above and above not in known:
        raise no_namespace(above)
    children = {n for n in known if len(n) == len(above) + 1 and n[: len(above)] == above}
    return {"namespaces": [list(n) for n in sorted(children)]}


@router.post("/namespaces")
def create_namespace(body: JsonBody, caller: CallerDep) -> dict[str, Any]:
    request = parse(CreateNamespace, body)
    namespace = checked(request.namespace)
    caller.require("write", ANY_TABLE)
    if namespace in namespaces(caller.ws):
        raise IcebergError(
            409, "AlreadyExistsException", f"namespace {'.'.join(namespace)} exists already"
        )
    _stored(caller.ws).create(namespace, request.properties)
    return {"namespace": list(namespace), "properties": request.properties}


@router.get("/namespaces/{namespace}")
def load_namespace(namespace: str, caller: CallerDep) -> dict[str, Any]:
    caller.require("read", ANY_TABLE)
    found = existing(caller.ws, namespace)
    properties = _stored(caller.ws).properties(found) or {}
    return {"namespace": list(found), "properties": properties}


@router.head("/namespaces/{namespace}", status_code=204)
def namespace_exists(namespace: str, caller: CallerDep) -> Response:
    caller.require("read", ANY_TABLE)
    existing(caller.ws, namespace)
    return Response(status_code=204)


@router.post("/namespaces/{namespace}/properties")
def update_properties(namespace: str, body: JsonBody, caller: CallerDep) -> dict[str, Any]:
    request = parse(UpdateProperties, body)
    caller.require("write", ANY_TABLE)
    found = existing(caller.ws, namespace)
    updated, removed, missing = _stored(caller.ws).update(
        found, set(request.removals), request.updates
    )
    return {"updated": updated, "removed": removed, "missing": missing}


@router.delete("/namespaces/{namespace}", status_code=204)
def drop_namespace(namespace: str, caller: CallerDep) -> Response:
    caller.require("write", ANY_TABLE)
    found = existing(caller.ws, namespace)
    name = ".".join(found)
    if found == (DEFAULT,):
        raise IcebergError(400, "BadRequestException", "namespace default holds Strata's tables")
    if any(_inside(found, identifier_of(t)[0]) for t in iceberg_tables(caller.ws)):
        raise IcebergError(409, "NamespaceNotEmptyException", f"namespace {name} has tables")
    stored = _stored(caller.ws)
    if any(_inside(found, n) and n != found for n in stored.all()):
        raise IcebergError(409, "NamespaceNotEmptyException", f"namespace {name} has namespaces")
    if stored.properties(found) is not None:
        stored.drop(found)
    return Response(status_code=204)


# -- shared with the table routes ------------------------------------------------------------
def iceberg_tables(ws: Workspace) -> list[str]:
    """The names of Strata's Iceberg tables (Delta tables are not the catalog's to serve)."""
    return [t.name for t in ws.tables.list() if t.format == "iceberg"]


def namespaces(ws: Workspace) -> set[Namespace]:
    """Every namespace there is: default, those created, and those table names imply."""
    found = {(DEFAULT,), *_stored(ws).all()}
    for name in iceberg_tables(ws):
        namespace = identifier_of(name)[0]
        found |= {namespace[:level] for level in range(1, len(namespace) + 1)}
    return found


def existing(ws: Workspace, path: str) -> Namespace:
    """The namespace a URL names; 404 when there is none."""
    namespace = namespace_of(path)
    if namespace not in namespaces(ws):
        raise no_namespace(namespace)
    return namespace


def no_namespace(namespace: Namespace) -> IcebergError:
    return IcebergError(
        404, "NoSuchNamespaceException", f"no namespace {'.'.join(namespace)} in the catalog"
    )


def _inside(outer: Namespace, inner: Namespace) -> bool:
    return inner[: len(outer)] == outer


def _stored(ws: Workspace) -> IcebergNamespaces:
    return IcebergNamespaces(ws.tables.db.url)
