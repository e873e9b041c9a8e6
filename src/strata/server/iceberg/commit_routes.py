"""Commits: ``POST .../tables/{table}`` (requirements and updates for one table) and
``POST /transactions/commit`` (several tables, all or nothing). Each becomes a version in
``strata table history`` naming the caller; a requirement that no longer holds is a 409
``CommitFailedException`` and nothing is written, so the client reloads and retries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from pyiceberg.table import CommitTableRequest, CommitTableResponse

from strata.server.auth import CallerDep
from strata.server.iceberg.errors import IcebergError
from strata.server.iceberg.names import JsonBody, checked, namespace_of, parse, strata_name
from strata.server.iceberg.table_routes import must_be_iceberg
from strata.tables.iceberg_commits import TableChange

router = APIRouter(tags=["iceberg"])


class CommitTransaction(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    table_changes: list[dict[str, Any]] = Field(alias="table-changes", min_length=1)


@router.post("/namespaces/{namespace}/tables/{table}")
def commit_table(namespace: str, table: str, body: JsonBody, caller: CallerDep) -> Response:
    path = {"namespace": list(namespace_of(namespace)), "name": table}
    change = _change(caller, {**body, "identifier": path})  # the path names the table
    done = caller.tables().commit_iceberg([change])[0]
    result = CommitTableResponse.model_validate(
        {"metadata-location": done.metadata_location, "metadata": done.metadata}
    )
    return Response(result.model_dump_json(), media_type="application/json")


@router.post("/transactions/commit", status_code=204)
def commit_transaction(body: JsonBody, caller: CallerDep) -> Response:
    """Every table's change, or none of them."""
    request = parse(CommitTransaction, body)
    changes = [_change(caller, change) for change in request.table_changes]
    names = [change.name for change in changes]
    if len(set(names)) < len(names):
        raise IcebergError(400, "BadRequestException", "a transaction names a table twice")
    caller.tables().commit_iceberg(changes)
    return Response(status_code=204)


def _change(caller: CallerDep, body: dict[str, Any]) -> TableChange:
    """One table's change, once the caller may write it and it is an Iceberg table."""
    request = parse(CommitTableRequest, body)
    found = request.identifier
    name = strata_name(checked(list(found.namespace.root)), found.name)
    caller.require("write", f"table:{name}")
    must_be_iceberg(caller.ws, name)
    return TableChange(name, tuple(request.requirements), tuple(request.updates))
