"""SQL on the lineage tables of ``strata.meta.schema`` (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from strata.lineage.records import Deployment, FeatureSet, RunRecord, RunStatus
from strata.meta.schema import (
    lineage_deployments,
    lineage_edges,
    lineage_feature_sets,
    lineage_nodes,
    lineage_runs,
)

_VERSIONED = ("table", "model", "features")
PARENT = "parent"
"""The kind of an edge from a run to a run it started."""
RunEdges = tuple[list[str], list[str], str | None]
"""A run's inputs, outputs and parent run."""


def _insert(connection: sa.Connection, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def split_node(ref: str) -> tuple[str, str, int | None]:
    """kind, name and version number (for table, model, features refs) of a node's ref."""
    kind, _, rest = ref.partition(":")
    name, _, selector = rest.partition("@")
    version = int(selector) if kind in _VERSIONED and selector.isdigit() else None
    return kind, name, version


# -- nodes and edges ------------------------------------------------------------------------
def node_ids(connection: sa.Connection, refs: Iterable[str]) -> dict[str, int]:
    """The node id of every ref, creating the nodes not stored yet."""
    wanted = sorted(set(refs))
    if not wanted:
        return {}
    rows = [dict(zip(("kind", "name", "version"), split_node(r), strict=True)) for r in wanted]
    for row, ref in zip(rows, wanted, strict=True):
        row["ref"] = ref
    for start in range(0, len(rows), 500):
        statement = _insert(connection, lineage_nodes).on_conflict_do_nothing(
            index_elements=["ref"]
        )
        connection.execute(statement, rows[start : start + 500])
    return stored_node_ids(connection, wanted)


def stored_node_ids(connection: sa.Connection, refs: Sequence[str]) -> dict[str, int]:
    """The node id of every ref among ``refs`` that is stored."""
    found: dict[str, int] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        query = sa.select(lineage_nodes.c.ref, lineage_nodes.c.id).where(
            lineage_nodes.c.ref.in_(chunk)
        )
        found.update({row.ref: row.id for row in connection.execute(query)})
    return found


def add_edges(
    connection: sa.Connection,
    edges: Sequence[tuple[str, str, str]],
    *,
    run_id: str | None,
    now: datetime,
) -> None:
    """Store (src, dst, kind) edges; an edge stored already is left as it is."""
    if not edges:
        return
    ids = node_ids(connection, [ref for src, dst, _ in edges for ref in (src, dst)])
    rows = [
        {
            "src_id": ids[src],
            "dst_id": ids[dst],
            "kind": kind,
            "run_id": run_id,
            "recorded_at": now,
        }
        for src, dst, kind in dict.fromkeys(edges)
    ]
    statement = _insert(connection, lineage_edges).on_conflict_do_nothing(
        index_elements=["src_id", "dst_id", "kind"]
    )
    connection.execute(statement, rows)


def node_exists(connection: sa.Connection, ref: str) -> bool:
    query = sa.select(lineage_nodes.c.id).where(lineage_nodes.c.ref == ref)
    return connection.execute(query).first() is not None


def nodes_in_range(
    connection: sa.Connection, kind: str, name: str, first: int, last: int
) -> list[str]:
    """Refs of the recorded versions ``first..last`` of one table, model or feature set."""
    c = lineage_nodes.c
    query = (
        sa.select(c.ref)
        .where(c.kind == kind, c.name == name, c.version.between(first, last))
        .order_by(c.version)
    )
    return list(connection.execute(query).scalars())


def nodes_named(connection: sa.Connection, kind: str, name: str) -> list[str]:
    """Refs of every recorded node of one thing, with or without a version."""
    c = lineage_nodes.c
    query = sa.select(c.ref).where(c.kind == kind, c.name == name).order_by(c.id)
    return list(connection.execute(query).scalars())


def run_edges(connection: sa.Connection, run_id: str) -> RunEdges:
    """The refs a run read and wrote, and the run it ran inside (or None)."""
    return runs_edges(connection, [run_id])[run_id]


# -- runs -----------------------------------------------------------------------------------
def insert_run(connection: sa.Connection, row: dict[str, Any], *, if_missing: bool = False) -> None:
    """Store a new run; with ``if_missing`` a run stored already (by a concurrent request
    too) is left as it is."""
    values = dict(row)
    for key in ("params", "metrics", "environment"):
        values[key] = json.dumps(values[key], sort_keys=True, default=str)
    if values.get("command") is not None:
        values["command"] = json.dumps(values["command"])
    if if_missing:
        statement = _insert(connection, lineage_runs).on_conflict_do_nothing(index_elements=["id"])
        connection.execute(statement, values)
    else:
        connection.execute(sa.insert(lineage_runs), values)


def start_earlier(connection: sa.Connection, run_id: str, when: datetime) -> None:
    """Move a run's start back to ``when`` if it was recorded later (events out of order)."""
    c = lineage_runs.c
    statement = sa.update(lineage_runs).where(c.id == run_id, c.started_at > when)
    connection.execute(statement.values(started_at=when))


def finish_run(
    connection: sa.Connection,
    run_id: str,
    *,
    status: RunStatus,
    ended_at: datetime,
    exit_code: int | None,
    metrics: dict[str, float],
    params: dict[str, Any] | None,
    error: str | None,
) -> bool:
    """Mark a running run finished; False when it was not running (finished already)."""
    values: dict[str, Any] = {
        "status": status,
        "ended_at": ended_at,
        "exit_code": exit_code,
        "metrics": json.dumps(metrics, sort_keys=True),
        "error": error,
    }
    if params is not None:
        values["params"] = json.dumps(params, sort_keys=True, default=str)
    statement = (
        sa.update(lineage_runs)
        .where(lineage_runs.c.id == run_id, lineage_runs.c.status == "running")
        .values(**values)
    )
    return connection.execute(statement).rowcount == 1


def run_from_row(
    row: sa.Row[Any], inputs: Sequence[str], outputs: Sequence[str], parent: str | None
) -> RunRecord:
    return RunRecord(
        id=row.id,
        job=row.job,
        namespace=row.namespace,
        status=row.status,
        started_at=row.started_at,
        ended_at=row.ended_at,
        exit_code=row.exit_code,
        command=None if row.command is None else json.loads(row.command),
        params=json.loads(row.params),
        metrics=json.loads(row.metrics),
        environment=json.loads(row.environment),
        host=row.host,
        pid=row.pid,
        error=row.error,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        parent=parent,
    )


def get_run(connection: sa.Connection, run_id: str, *, with_edges: bool = True) -> RunRecord | None:
    row = connection.execute(sa.select(lineage_runs).where(lineage_runs.c.id == run_id)).first()
    if row is None:
        return None
    inputs, outputs, parent = run_edges(connection, run_id) if with_edges else ([], [], None)
    return run_from_row(row, inputs, outputs, parent)


def list_runs(connection: sa.Connection, *, job: str | None, limit: int) -> list[RunRecord]:
    query = sa.select(lineage_runs).order_by(lineage_runs.c.id.desc()).limit(limit)
    if job is not None:
        query = query.where(lineage_runs.c.job == job)
    rows = list(connection.execute(query))
    edges = runs_edges(connection, [row.id for row in rows])
    return [run_from_row(row, *edges[row.id]) for row in rows]


def runs_edges(connection: sa.Connection, run_ids: Sequence[str]) -> dict[str, RunEdges]:
    """The refs each run read and wrote, and its parent run, for many runs in a few queries.
    A ``parent`` edge goes from a parent run to a run it started (an Airflow DAG run to its
    task runs): neither an input nor an output."""
    src, dst = lineage_nodes.alias("src"), lineage_nodes.alias("dst")
    e = lineage_edges.c
    found: dict[str, RunEdges] = {i: ([], [], None) for i in run_ids}
    nodes = list(stored_node_ids(connection, [f"run:{i}" for i in run_ids]).values())
    for start in range(0, len(nodes), 250):
        touching = edges_of(nodes[start : start + 250])
        query = (
            sa.select(src.c.ref.label("src"), dst.c.ref.label("dst"), e.kind)
            .select_from(
                lineage_edges.join(touching, touching.c.id == e.id)
                .join(src, src.c.id == e.src_id)
                .join(dst, dst.c.id == e.dst_id)
            )
            .order_by(e.id)
        )
        for row in connection.execute(query):
            into, out_of = row.dst.removeprefix("run:"), row.src.removeprefix("run:")
            if row.kind == PARENT:
                if row.dst.startswith("run:") and into in found:
                    found[into] = (*found[into][:2], row.src)
            elif row.dst.startswith("run:") and into in found:
                found[into][0].append(row.src)
            elif row.src.startswith("run:") and out_of in found:
                found[out_of][1].append(row.dst)
    return found


def edges_of(node_ids: Sequence[int] | sa.Select[tuple[int]]) -> sa.Subquery:
    """The ids of the edges from or to any of ``node_ids``, each once: two lookups through
    the indexes on ``src_id`` and ``dst_id`` (an ``OR`` of the two would scan every edge)."""
    e = lineage_edges.c
    return sa.union(
        sa.select(e.id).where(e.src_id.in_(node_ids)),
        sa.select(e.id).where(e.dst_id.in_(node_ids)),
    ).subquery()


# -- feature sets ---------------------------------------------------------------------------
def _feature_set(row: sa.Row[Any], *, new: bool = False) -> FeatureSet:
    return FeatureSet(
        name=row.name,
        version=row.version,
        content_hash=row.content_hash,
        features=tuple(json.loads(row.features)),
        definition=row.definition,
        created_at=row.created_at,
        new=new,
    )


def feature_set(
    connection: sa.Connection, name: str, *, version: int | None = None, content_hash: str = ""
) -> FeatureSet | None:
    """One version of a feature set, by number, by content hash, or the newest."""
    c = lineage_feature_sets.c
    query = sa.select(lineage_feature_sets).where(c.name == name)
    if version is not None:
        query = query.where(c.version == version)
    elif content_hash:
        query = query.where(c.content_hash == content_hash)
    row = connection.execute(query.order_by(c.version.desc()).limit(1)).first()
    return None if row is None else _feature_set(row)


def insert_feature_set(connection: sa.Connection, row: dict[str, Any]) -> FeatureSet:
    c = lineage_feature_sets.c
    newest = connection.execute(
        sa.select(sa.func.max(c.version)).where(c.name == row["name"])
    ).scalar()
    values = {**row, "version": (newest or 0) + 1, "features": json.dumps(row["features"])}
    connection.execute(sa.insert(lineage_feature_sets).values(**values))
    stored = connection.execute(
        sa.select(lineage_feature_sets).where(c.name == row["name"], c.version == values["version"])
    ).one()
    return _feature_set(stored, new=True)


def feature_sets(connection: sa.Connection, name: str | None) -> list[FeatureSet]:
    c = lineage_feature_sets.c
    query = sa.select(lineage_feature_sets).order_by(c.name, c.version)
    if name is not None:
        query = query.where(c.name == name)
    return [_feature_set(row) for row in connection.execute(query)]


# -- deployments ----------------------------------------------------------------------------
def insert_deployment(connection: sa.Connection, deployment: Deployment) -> None:
    connection.execute(
        sa.insert(lineage_deployments).values(
            id=deployment.id,
            model=deployment.model,
            target=deployment.target,
            image=deployment.image,
            deployed_at=deployment.deployed_at,
            run_id=deployment.run_id,
        )
    )


def deployments(
    connection: sa.Connection, *, models: Sequence[str] | None = None
) -> list[Deployment]:
    c = lineage_deployments.c
    query = sa.select(lineage_deployments).order_by(c.deployed_at, c.id)
    if models is not None:
        query = query.where(c.model.in_(list(models)))
    return [
        Deployment(row.id, row.model, row.target, row.image, row.deployed_at, row.run_id)
        for row in connection.execute(query)
    ]
