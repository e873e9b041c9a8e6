"""Marquez's JSON shapes (its ``spec/openapi.yml``) of Strata's datasets, jobs and runs, so
that Marquez's web UI and the tools that read Marquez read Strata.

Marquez names versions by UUIDs; Strata's versions are its own (``4`` of a table, a run id),
given as they are. Fields Strata does not keep (tags, descriptions, sources) are empty.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from strata.lineage.ids import run_id_to_uuid
from strata.lineage.named import DatasetInfo, JobInfo, NamedGraph, Node, dataset_of, version_of
from strata.lineage.records import RunRecord

STATES = {"running": "RUNNING", "completed": "COMPLETED", "failed": "FAILED"}


def _time(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def node_id(node: Node) -> dict[str, str]:
    return {"namespace": node.namespace, "name": node.name}


def namespace(name: str, first: datetime | None, last: datetime | None) -> dict[str, Any]:
    return {
        "name": name,
        "createdAt": _time(first),
        "updatedAt": _time(last),
        "ownerName": None,
        "description": None,
    }


def dataset(info: DatasetInfo) -> dict[str, Any]:
    node = info.node
    return {
        "id": node_id(node),
        "type": "DB_TABLE",
        "name": node.name,
        "physicalName": node.name,
        "createdAt": _time(info.created_at),
        "updatedAt": _time(info.updated_at),
        "namespace": node.namespace,
        "sourceName": node.namespace,
        "fields": [],
        "tags": [],
        "lastModifiedAt": _time(info.updated_at),
        "description": None,
        "facets": {},
        "currentVersion": info.versions[-1] if info.versions else None,
        "deleted": False,
        "ref": info.ref,  # Strata's own: what `strata lineage` takes
    }


def run(record: RunRecord, own: str) -> dict[str, Any]:
    ended = record.ended_at
    took = None if ended is None else int((ended - record.started_at).total_seconds() * 1000)
    return {
        "id": run_id_to_uuid(record.id),
        "createdAt": _time(record.started_at),
        "updatedAt": _time(ended or record.started_at),
        "nominalStartTime": None,
        "nominalEndTime": None,
        "state": STATES.get(record.status, "FAILED"),
        "startedAt": _time(record.started_at),
        "endedAt": _time(ended),
        "durationMs": took,
        "args": record.params,
        "jobVersion": {"namespace": record.namespace, "name": record.job, "version": None},
        "inputVersions": _versions(record.inputs, own),
        "outputVersions": _versions(record.outputs, own),
        "facets": {},
        "ref": record.ref,
    }


def _versions(refs: tuple[str, ...], own: str) -> list[dict[str, Any]]:
    found = []
    for ref in refs:
        node = dataset_of(ref, own)
        if node is not None:
            found.append({**node_id(node), "version": version_of(ref)})
    return found


def job(info: JobInfo, own: str) -> dict[str, Any]:
    node = info.node
    return {
        "id": node_id(node),
        "type": "BATCH",
        "name": node.name,
        "createdAt": _time(info.created_at),
        "updatedAt": _time(info.updated_at),
        "namespace": node.namespace,
        "inputs": [node_id(n) for n in info.inputs],
        "outputs": [node_id(n) for n in info.outputs],
        "location": None,
        "context": {},
        "description": None,
        "latestRun": None if info.latest is None else run(info.latest, own),
        "facets": {},
        "currentVersion": None,
    }


def graph(
    found: NamedGraph, datasets: dict[Node, DatasetInfo], jobs: dict[Node, JobInfo], own: str
) -> dict[str, Any]:
    """``{"graph": [{"id", "type", "data", "inEdges", "outEdges"}]}``."""
    into: dict[Node, list[Node]] = {}
    out_of: dict[Node, list[Node]] = {}
    for origin, destination in sorted(found.edges):
        out_of.setdefault(origin, []).append(destination)
        into.setdefault(destination, []).append(origin)
    nodes = []
    for node in found.nodes():
        data: dict[str, Any] | None = None
        if node in datasets:
            data = dataset(datasets[node])
        elif node in jobs:
            data = job(jobs[node], own)
        nodes.append(
            {
                "id": node.id,
                "type": node.type,
                "data": data,
                "inEdges": [_edge(o, node) for o in into.get(node, [])],
                "outEdges": [_edge(node, d) for d in out_of.get(node, [])],
            }
        )
    return {"graph": nodes}


def _edge(origin: Node, destination: Node) -> dict[str, str]:
    return {"origin": origin.id, "destination": destination.id}


def search_result(node: Node, updated: datetime | None) -> dict[str, Any]:
    return {
        "type": node.type,
        "name": node.name,
        "updatedAt": _time(updated),
        "namespace": node.namespace,
        "nodeId": node.id,
    }
