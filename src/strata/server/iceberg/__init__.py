"""The Apache Iceberg REST catalog over Strata's Iceberg tables, under ``/iceberg/v1``
(the spec: ``open-api/rest-catalog-open-api.yaml`` in apache/iceberg).

    RestCatalog("strata", uri="http://HOST:8765/iceberg", token="<strata token>")

Engines (pyiceberg, Spark, Trino, DuckDB) write data files themselves, at the table's
location; the catalog hands out the metadata and swaps it on commit, each commit a Strata
version. Errors take the spec's shape. Not served: staged creates (create-table transactions),
views, server-side scan planning, vended credentials, and the deprecated OAuth token exchange
(send a Strata token as the bearer token instead).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from strata.server.iceberg import commit_routes, errors, namespace_routes, table_routes

PREFIX = "/iceberg/v1"


def install(app: FastAPI) -> None:
    """Serve the catalog on ``app`` under PREFIX, its errors in the spec's shape."""
    errors.install(app)
    router = APIRouter()
    for routes in (namespace_routes, table_routes, commit_routes):
        router.include_router(routes.router)
    app.include_router(router, prefix=PREFIX)
