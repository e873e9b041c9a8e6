"""The tables: list, load (``metadata-location`` and ``metadata``), exists, create, register
an existing metadata file, drop, rename. Loads and lists need read on ``table:NAME``; the
rest write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from pyiceberg.catalog.rest import CreateTableRequest, TableResponse

from strata.errors import TableNotFoundError
from strata.server.auth import CallerDep
from strata.server.iceberg.errors import IcebergError
from strata.server.iceberg.names import (
    JsonBody,
    checked,
    identifier_of,
    namespace_of,
    parse,
    strata_name,
)
from strata.server.iceberg.namespace_routes import (
    ANY_TABLE,
    existing,
    iceberg_tables,
    namespaces,
    no_namespace,
)
from strata.tables.iceberg import IcebergTable
from strata.workspace import Workspace

if TYPE_CHECKING:
    from pyiceberg.table import Table as IceTable

router = APIRouter(tags=["iceberg"])


class TableName(BaseModel):
    namespace: list[str]
    name: str


class RenameTable(BaseModel):
    source: TableName
    destination: TableName


class RegisterTable(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str
    metadata_location: str = Field(alias="metadata-location")
    overwrite: bool = False


@router.get("/namespaces/{namespace}/tables")
def list_tables(namespace: str, caller: CallerDep) -> dict[str, Any]:
    caller.require("read", ANY_TABLE)
    found = existing(caller.ws, namespace)
    names = [identifier_of(name) for name in iceberg_tables(caller.ws)]
    return {
        "identifiers": [
            {"namespace": list(ns), "name": table} for ns, table in names if ns == found
        ]
    }


@router.post("/namespaces/{namespace}/tables")
def create_table(namespace: str, body: JsonBody, caller: CallerDep) -> Response:
    """An empty table from the client's schema, partition spec, sort order and properties;
    its first version is the client's first commit."""
    optional = {"location": None, "partition-spec": None, "write-order": None}
    request = parse(CreateTableRequest, {**optional, **body})  # pyiceberg's: none optional
    found = existing(caller.ws, namespace)
    name = strata_name(found, request.name)
    caller.require("write", f"table:{name}")
    if request.stage_create:
        raise IcebergError(
            400,
            "BadRequestException",
            "staged creates are not served: create the table, then commit to it",
        )
    if request.location is not None:
        outside(caller.ws, request.location)
    created = caller.tables().create_iceberg(
        name,
        request.table_schema,
        partition_spec=request.partition_spec,
        sort_order=request.write_order,
        properties=request.properties,
        location=request.location,
    )
    assert isinstance(created, IcebergTable)
    return loaded(created.iceberg())


@router.get("/namespaces/{namespace}/tables/{table}")
def load_table(namespace: str, table: str, caller: CallerDep) -> Response:
    name = named(namespace, table)
    caller.require("read", f"table:{name}")
    return loaded(iceberg_table(caller.ws, name))


@router.head("/namespaces/{namespace}/tables/{table}", status_code=204)
def table_exists(namespace: str, table: str, caller: CallerDep) -> Response:
    name = named(namespace, table)
    caller.require("read", f"table:{name}")
    must_be_iceberg(caller.ws, name)
    return Response(status_code=204)


@router.delete("/namespaces/{namespace}/tables/{table}", status_code=204)
def drop_table(
    namespace: str,
    table: str,
    caller: CallerDep,
    purge: Annotated[bool, Query(alias="purgeRequested")] = False,
) -> Response:
    """Out of the catalog; its files deleted too when ``purgeRequested`` and Strata made it.
    Refused while a version is pinned."""
    name = named(namespace, table)
    caller.require("write", f"table:{name}")
    must_be_iceberg(caller.ws, name)
    caller.tables().drop(name, force=True, keep_files=not purge)
    return Response(status_code=204)


@router.post("/namespaces/{namespace}/register")
def register_table(namespace: str, body: JsonBody, caller: CallerDep) -> Response:
    """Catalog a table other tools made, at the metadata file the request names."""
    request = parse(RegisterTable, body)
    name = strata_name(existing(caller.ws, namespace), request.name)
    caller.require("write", f"table:{name}")
    folder, sep, _ = request.metadata_location.rpartition("/metadata/")
    if request.overwrite or not sep:
        raise IcebergError(
            400,
            "BadRequestException",
            "register names a metadata file in a table's metadata/ folder, and never overwrites",
        )
    outside(caller.ws, folder)
    table = caller.tables().register(
        name, folder, format="iceberg", metadata=request.metadata_location
    )
    assert isinstance(table, IcebergTable)
    return loaded(table.iceberg())


@router.post("/tables/rename", status_code=204)
def rename_table(body: JsonBody, caller: CallerDep) -> Response:
    request = parse(RenameTable, body)
    source, target = request.source, request.destination
    into = checked(target.namespace)
    old, new = strata_name(checked(source.namespace), source.name), strata_name(into, target.name)
    caller.require("write", f"table:{old}")
    caller.require("write", f"table:{new}")
    must_be_iceberg(caller.ws, old)
    if into not in namespaces(caller.ws):
        raise no_namespace(into)
    caller.tables().rename(old, new)
    return Response(status_code=204)


# -- shared with the commit routes -----------------------------------------------------------
def named(namespace: str, table: str) -> str:
    return strata_name(namespace_of(namespace), table)


def iceberg_table(ws: Workspace, name: str) -> IceTable:
    """pyiceberg's table of Strata table ``name``; 404 when there is no such Iceberg table."""
    must_be_iceberg(ws, name)
    table = ws.tables.open(name)
    assert isinstance(table, IcebergTable)
    return table.iceberg()


def must_be_iceberg(ws: Workspace, name: str) -> None:
    """404 unless ``name`` is an Iceberg table in the catalog (a look at its row only)."""
    if ws.tables.info(name).format != "iceberg":
        raise TableNotFoundError(
            f"table {name} is a Delta table: the Iceberg catalog serves Iceberg tables only"
        )


def outside(ws: Workspace, location: str) -> None:
    """Refuse a location from the request that is not inside the workspace's table root."""
    if not ws.tables.in_root(location):
        raise IcebergError(
            400,
            "BadRequestException",
            f"location {location} is outside the table root {ws.tables.default_location('')}: "
            "give a location inside it, or none",
        )


def loaded(table: IceTable) -> Response:
    """The spec's LoadTableResult: where the metadata is, and the metadata itself."""
    result = TableResponse.model_validate(
        {"metadata-location": table.metadata_location, "metadata": table.metadata}
    )
    return Response(result.model_dump_json(), media_type="application/json")
