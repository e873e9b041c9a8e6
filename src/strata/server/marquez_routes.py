"""Marquez's read API (``spec/openapi.yml`` of MarquezProject/marquez) over Strata's lineage,
so that Marquez's web UI and the tools that read Marquez read Strata: namespaces, datasets,
jobs, runs, the lineage graph around a node, and search. Events ingested from Spark, Airflow,
Flink or dbt and Strata's own runs, tables and models (datasets and jobs of the ``strata``
namespace) are one graph (``strata.lineage.named``).

Names hold ``/`` and ``:`` (``s3://bucket``, ``gold/deliveries``); clients percent-encode them
in paths (``s3:%2F%2Fbucket``), and they are read from the path as sent. Reading needs a viewer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import unquote

from fastapi import APIRouter, HTTPException, Query, Request

from strata.errors import RunNotFoundError
from strata.lineage.ids import uuid_to_run_id
from strata.lineage.named import NamedView, parse_node_id
from strata.server import marquez_shapes as shapes
from strata.server.auth import Caller, CallerDep

router = APIRouter(tags=["marquez"])
Limit = Annotated[int, Query(ge=0, le=10_000)]
Offset = Annotated[int, Query(ge=0)]
EVERYTHING = "lineage"


def _reader(caller: Caller) -> NamedView:
    caller.require("read", EVERYTHING)
    return caller.ws.lineage.named()


def _params(request: Request, template: tuple[str | None, ...], *decoded: str) -> tuple[str, ...]:
    """The path parameters (the ``None`` places of ``template``, the path's last segments) as
    the client encoded them, each percent-decoded on its own: the router has decoded ``%2F``
    before matching, so a parameter holding ``/`` is cut wrongly there."""
    raw = request.scope.get("raw_path", b"").decode("latin-1").partition("?")[0]
    parts = raw.split("/")[-len(template) :]
    if len(parts) == len(template) and all(
        t in (None, p) for t, p in zip(template, parts, strict=True)
    ):
        return tuple(unquote(p) for t, p in zip(template, parts, strict=True) if t is None)
    return decoded


def _not_found(what: str) -> HTTPException:
    return HTTPException(404, f"{what} is not recorded: see GET /api/v1/search?q=NAME")


@router.get("/namespaces")
def namespaces(caller: CallerDep, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    """Every namespace a job or dataset is in, ``strata`` (Strata's own) among them."""
    found = _reader(caller).namespaces()
    shown = list(found.items())[offset : offset + limit]
    return {"namespaces": [shapes.namespace(name, *times) for name, times in shown]}


@router.get("/namespaces/{namespace:path}/datasets/{dataset:path}")
def dataset(namespace: str, dataset: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    """One dataset: when it was first and last written, its current version."""
    namespace, dataset = _params(
        request, ("namespaces", None, "datasets", None), namespace, dataset
    )
    found = _reader(caller).dataset(namespace, dataset)
    if found is None:
        raise _not_found(f"dataset {dataset!r} in namespace {namespace!r}")
    return shapes.dataset(found)


@router.get("/namespaces/{namespace:path}/datasets")
def datasets(
    namespace: str, request: Request, caller: CallerDep, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    """The datasets of a namespace, by name."""
    (namespace,) = _params(request, ("namespaces", None, "datasets"), namespace)
    found = _reader(caller).datasets(namespace)
    shown = [shapes.dataset(d) for d in found[offset : offset + limit]]
    return {"datasets": shown, "totalCount": len(found)}


@router.get("/namespaces/{namespace:path}/jobs/{job:path}/runs")
def runs(
    namespace: str,
    job: str,
    request: Request,
    caller: CallerDep,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The runs of a job, newest first."""
    namespace, job = _params(request, ("namespaces", None, "jobs", None, "runs"), namespace, job)
    view = _reader(caller)
    if not view.jobs(namespace, job):
        raise _not_found(f"job {job!r} in namespace {namespace!r}")
    found = view.runs(namespace, job, limit=limit, offset=offset)
    return {"runs": [shapes.run(r, view.own) for r in found]}


@router.get("/namespaces/{namespace:path}/jobs/{job:path}")
def job(namespace: str, job: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    """One job: the datasets its runs read and wrote, its latest run."""
    namespace, job = _params(request, ("namespaces", None, "jobs", None), namespace, job)
    view = _reader(caller)
    found = view.job(namespace, job)
    if found is None:
        raise _not_found(f"job {job!r} in namespace {namespace!r}")
    return shapes.job(found, view.own)


@router.get("/namespaces/{namespace:path}/jobs")
def jobs(
    namespace: str, request: Request, caller: CallerDep, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    """The jobs of a namespace, by name, each with its latest run."""
    (namespace,) = _params(request, ("namespaces", None, "jobs"), namespace)
    view = _reader(caller)
    found = view.jobs(namespace)
    shown = [view.job(j.node.namespace, j.node.name) for j in found[offset : offset + limit]]
    return {
        "jobs": [shapes.job(j, view.own) for j in shown if j is not None],
        "totalCount": len(found),
    }


@router.get("/namespaces/{namespace:path}")
def namespace(namespace: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    """One namespace."""
    (namespace,) = _params(request, ("namespaces", None), namespace)
    found = _reader(caller).namespaces()
    if namespace not in found:
        raise _not_found(f"namespace {namespace!r}")
    return shapes.namespace(namespace, *found[namespace])


@router.get("/jobs/runs/{run_id}")
def run(run_id: str, caller: CallerDep) -> dict[str, Any]:
    """One run, by its OpenLineage UUID."""
    view = _reader(caller)
    try:
        strata_id = uuid_to_run_id(run_id)
    except ValueError:
        raise HTTPException(400, f"run id {run_id!r} is not a UUID") from None
    try:
        record = view.lineage.run(f"run:{strata_id}")
    except RunNotFoundError:
        raise _not_found(f"run {run_id}") from None
    return shapes.run(record, view.own)


@router.get("/lineage")
def lineage_graph(
    caller: CallerDep,
    node_id: Annotated[str, Query(alias="nodeId", description="dataset:NS:NAME or job:NS:NAME")],
    depth: Annotated[int, Query(ge=0, le=100)] = 20,
) -> dict[str, Any]:
    """The datasets and jobs up and downstream of a node, ``depth`` jobs away at most."""
    view = _reader(caller)
    root = parse_node_id(node_id, view)
    graph = None if root is None else view.graph(root, depth=depth)
    if graph is None:
        raise _not_found(f"node {node_id!r}")
    nodes = graph.nodes()
    datasets = view.datasets_named(nodes)
    jobs = {n: j for n in nodes if n.type == "JOB" and (j := view.job(n.namespace, n.name))}
    return shapes.graph(graph, datasets, jobs, view.own)


@router.get("/search")
def search(
    caller: CallerDep,
    q: Annotated[str, Query(min_length=1, description="% any text, _ one character")],
    kind: Annotated[
        Literal["dataset", "job", "DATASET", "JOB"] | None, Query(alias="filter")
    ] = None,
    sort: Literal["name", "updated_at", "NAME", "UPDATED_AT"] = "name",
    limit: Limit = 100,
) -> dict[str, Any]:
    """Datasets and jobs whose name matches ``q``, case-insensitively."""
    found = _reader(caller).search(q)
    if kind is not None:
        found = [(n, at) for n, at in found if n.type == kind.upper()]
    if sort.lower() == "updated_at":
        found.sort(key=lambda item: -item[1].timestamp() if item[1] else float("inf"))
    else:
        found.sort(key=lambda item: (item[0].name, item[0].namespace))
    results = [shapes.search_result(n, at) for n, at in found[:limit]]
    return {"totalCount": len(found), "results": results}
