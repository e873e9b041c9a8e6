"""Lineage graph queries: everything upstream or downstream of some refs, to a depth.

Every edge among the nodes reached is returned; shortest paths and depths come from a
breadth-first walk over that subgraph in Python. Reaching the nodes:

- to any depth (``MAX_DEPTH``), one recursive SQL query (``WITH RECURSIVE``, SQLite and
  PostgreSQL alike) that keeps each node once;
- to a depth, a breadth-first walk, one query a level through the indexes on the edges'
  ``src_id`` and ``dst_id``, each node visited once. (A recursive query that counts depth
  keeps a node once per depth a path reaches it at: tens of times over from the many versions
  of a table in a graph of daily incremental tables, as Marquez-shaped queries start from.)
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from strata.lineage.records import Edge
from strata.lineage.store import stored_node_ids
from strata.meta.schema import lineage_deployments, lineage_nodes, lineage_runs

Direction = Literal["upstream", "downstream", "both"]
Format = Literal["text", "json", "dot", "mermaid"]
MAX_DEPTH = 1000
_AT_ONCE = 500
_EdgeRow = tuple[int, int, int, str]
"""An edge as stored: id, src_id, dst_id, kind."""


def _edges_from(
    connection: sa.Connection, ids: Iterable[int], way: Literal["upstream", "downstream"]
) -> list[_EdgeRow]:
    """Every edge leaving ``ids`` going ``way`` (into them, upstream). Plain SQL with the
    ids written in (integers the database gave): a walk runs one of these a level, and
    building a statement costs more than running it."""
    this = "src_id" if way == "downstream" else "dst_id"
    wanted, found = sorted(int(i) for i in ids), []
    for start in range(0, len(wanted), _AT_ONCE):
        listed = ",".join(map(str, wanted[start : start + _AT_ONCE]))
        query = f"SELECT id, src_id, dst_id, kind FROM lineage_edges WHERE {this} IN ({listed})"
        found += [(r[0], r[1], r[2], r[3]) for r in connection.exec_driver_sql(query)]
    return found


def _reach(
    connection: sa.Connection,
    roots: Iterable[int],
    way: Literal["upstream", "downstream"],
    depth: int,
) -> list[_EdgeRow]:
    """Every edge among the nodes within ``depth`` edges of ``roots`` going ``way``."""
    seen, frontier = set(roots), set(roots)
    taken: list[_EdgeRow] = []
    for _ in range(depth):
        if not frontier:
            break
        level = _edges_from(connection, frontier, way)
        taken += level
        frontier = {row[2] if way == "downstream" else row[1] for row in level} - seen
        seen |= frontier
    # the last level was not walked from: its edges to nodes reached already belong too
    taken += _edges_from(connection, frontier, way)
    return [row for row in taken if row[1] in seen and row[2] in seen]


_CLOSURE = """
WITH RECURSIVE reach(id) AS (
    SELECT id FROM lineage_nodes WHERE id IN :roots
    UNION
    SELECT e.{next} FROM lineage_edges e JOIN reach r ON e.{this} = r.id
)
SELECT e.id, e.src_id, e.dst_id, e.kind FROM lineage_edges e
WHERE e.{this} IN (SELECT id FROM reach)
"""


def _closure(
    connection: sa.Connection, roots: Iterable[int], way: Literal["upstream", "downstream"]
) -> list[_EdgeRow]:
    """Every edge among the nodes reachable from ``roots`` going ``way``, in one query: each
    reached node's edges going ``way`` lead to reached nodes only."""
    this, next_ = ("src_id", "dst_id") if way == "downstream" else ("dst_id", "src_id")
    query = sa.text(_CLOSURE.format(this=this, next=next_))
    query = query.bindparams(sa.bindparam("roots", expanding=True))
    rows = connection.execute(query, {"roots": sorted(roots)})
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def _refs(connection: sa.Connection, ids: Iterable[int]) -> dict[int, str]:
    n = lineage_nodes.c
    wanted, found = sorted(ids), {}
    for start in range(0, len(wanted), _AT_ONCE):
        query = sa.select(n.id, n.ref).where(n.id.in_(wanted[start : start + _AT_ONCE]))
        found.update({row.id: row.ref for row in connection.execute(query)})
    return found


def walk(
    connection: sa.Connection,
    roots: Sequence[str],
    *,
    direction: Direction,
    depth: int = MAX_DEPTH,
) -> Graph:
    """The subgraph within ``depth`` edges of ``roots`` in ``direction``."""
    ways: list[Literal["upstream", "downstream"]] = (
        ["upstream", "downstream"] if direction == "both" else [direction]
    )
    start = stored_node_ids(connection, list(roots)).values()
    rows: dict[int, _EdgeRow] = {}
    for way in ways:
        found = (
            _closure(connection, start, way)
            if depth >= MAX_DEPTH
            else _reach(connection, start, way, depth)
        )
        rows.update((row[0], row) for row in found)
    refs = _refs(connection, {i for row in rows.values() for i in row[1:3]})
    edges = tuple(Edge(refs[src], refs[dst], kind) for _, src, dst, kind in sorted(rows.values()))
    graph = Graph(tuple(roots), direction, edges)
    graph.labels.update(_labels(connection, graph.refs()))
    return graph


def _labels(connection: sa.Connection, refs: Sequence[str]) -> dict[str, str]:
    """Short descriptions of run and deployment nodes (job; target and image)."""
    runs = [r.removeprefix("run:") for r in refs if r.startswith("run:")]
    deploys = [r.removeprefix("deployment:") for r in refs if r.startswith("deployment:")]
    labels: dict[str, str] = {}
    for start in range(0, len(runs), 500):
        query = sa.select(lineage_runs.c.id, lineage_runs.c.job, lineage_runs.c.status).where(
            lineage_runs.c.id.in_(runs[start : start + 500])
        )
        for row in connection.execute(query):
            labels[f"run:{row.id}"] = f"{row.job}, {row.status}"
    for start in range(0, len(deploys), 500):
        c = lineage_deployments.c
        query = sa.select(c.id, c.target, c.image).where(c.id.in_(deploys[start : start + 500]))
        for row in connection.execute(query):
            labels[f"deployment:{row.id}"] = row.target + (f", {row.image}" if row.image else "")
    return labels


@dataclass
class Graph:
    roots: tuple[str, ...]
    direction: Direction
    edges: tuple[Edge, ...]
    labels: dict[str, str] = field(default_factory=dict)

    def refs(self) -> list[str]:
        """Every node: the roots, then the others in the order edges name them."""
        seen = dict.fromkeys(self.roots)
        for edge in self.edges:
            seen[edge.src] = None
            seen[edge.dst] = None
        return list(seen)

    def paths(self, way: Literal["upstream", "downstream"] = "downstream") -> dict[str, list[str]]:
        """A shortest path from a root to every node reached going ``way``: [root, ..., node]."""
        following: dict[str, list[str]] = {}
        for edge in self.edges:
            src, dst = (edge.src, edge.dst) if way == "downstream" else (edge.dst, edge.src)
            following.setdefault(src, []).append(dst)
        parent: dict[str, str | None] = dict.fromkeys(self.roots)
        queue = deque(self.roots)
        while queue:
            node = queue.popleft()
            for nxt in following.get(node, ()):
                if nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
        paths: dict[str, list[str]] = {}
        for node in parent:
            chain = [node]
            while (up := parent[chain[-1]]) is not None:
                chain.append(up)
            paths[node] = chain[::-1]
        return paths

    def depths(self) -> dict[str, int]:
        """Edges from the nearest root, upstream nodes counted negative."""
        found: dict[str, int] = {}
        for way, sign in (("upstream", -1), ("downstream", 1)):
            if self.direction in (way, "both"):
                for node, path in self.paths(way).items():  # type: ignore[arg-type]
                    found.setdefault(node, sign * (len(path) - 1))
        return found

    def to_dict(self) -> dict[str, Any]:
        depths = self.depths()
        return {
            "roots": list(self.roots),
            "direction": self.direction,
            "nodes": [
                {
                    "ref": ref,
                    "kind": ref.partition(":")[0],
                    "depth": depths.get(ref, 0),
                    "label": self.labels.get(ref),
                }
                for ref in self.refs()
            ],
            "edges": [e.to_dict() for e in self.edges],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Graph:
        """The graph ``to_dict`` gave (e.g. a Strata server's JSON)."""
        return cls(
            roots=tuple(data["roots"]),
            direction=data["direction"],
            edges=tuple(Edge(e["src"], e["dst"], e["kind"]) for e in data["edges"]),
            labels={n["ref"]: n["label"] for n in data["nodes"] if n.get("label") is not None},
        )

    def render(self, fmt: Format) -> str:
        if fmt == "json":
            return json.dumps(self.to_dict(), indent=2)
        if fmt == "dot":
            return self._dot()
        if fmt == "mermaid":
            return self._mermaid()
        return self._text()

    def _name(self, ref: str) -> str:
        label = self.labels.get(ref)
        return f"{ref} ({label})" if label else ref

    def _text(self) -> str:
        lines: list[str] = []
        kinds = {(e.src, e.dst): e.kind for e in self.edges}
        for way, arrow in (("upstream", "<-"), ("downstream", "->")):
            if self.direction not in (way, "both"):
                continue
            paths = self.paths(way)  # type: ignore[arg-type]
            lines.append(f"{way}:")
            for node, path in sorted(paths.items(), key=lambda item: (len(item[1]), item[0])):
                if len(path) > 1:
                    before = path[-2]
                    edge = (before, node) if way == "downstream" else (node, before)
                    kind = kinds.get(edge, "")
                    indent = "  " * (len(path) - 1)
                    lines.append(f"{indent}{arrow} {self._name(node)}  [{kind}]")
            if len(lines) and lines[-1] == f"{way}:":
                lines.append("  (nothing recorded)")
        return "\n".join([*(self._name(r) for r in self.roots), *lines])

    def _dot(self) -> str:
        ids = {ref: f"n{i}" for i, ref in enumerate(self.refs())}
        lines = ["digraph lineage {", "  rankdir=LR;"]
        for ref, node in ids.items():
            shape = _SHAPES.get(ref.partition(":")[0], "box")
            label = self._name(ref).replace('"', '\\"')
            lines.append(f'  {node} [label="{label}", shape={shape}];')
        for e in self.edges:
            lines.append(f'  {ids[e.src]} -> {ids[e.dst]} [label="{e.kind}"];')
        lines.append("}")
        return "\n".join(lines)

    def _mermaid(self) -> str:
        ids = {ref: f"n{i}" for i, ref in enumerate(self.refs())}
        lines = ["flowchart LR"]
        for ref, node in ids.items():
            label = self._name(ref).replace('"', "#quot;")
            open_, close = _MERMAID_SHAPES.get(ref.partition(":")[0], ("[", "]"))
            lines.append(f'  {node}{open_}"{label}"{close}')
        for e in self.edges:
            lines.append(f"  {ids[e.src]} -->|{e.kind}| {ids[e.dst]}")
        return "\n".join(lines)


_SHAPES = {"run": "ellipse", "deployment": "house", "model": "box3d", "features": "note"}
_MERMAID_SHAPES = {"run": ("([", "])"), "deployment": ("[/", "/]"), "model": ("[[", "]]")}
