"""The lineage graph by name, as OpenLineage tools (Marquez and its web UI) see it: datasets
and jobs in namespaces, rather than versions and runs.

- A ``dataset:NAMESPACE/NAME`` node (any version) is the dataset ``NAME`` in ``NAMESPACE``.
- Strata's own things (tables, models, feature sets, files) are datasets of the lineage's
  namespace (``strata``), named as Strata's OpenLineage events name them: ``table:deliveries``.
- A run is its job: ``(namespace, job)`` as recorded; Strata's own runs are in ``strata`` too.

Edges between versions become edges between names: ``table:deliveries@4 -> run:X`` (input) is
the dataset ``strata/table:deliveries`` feeding X's job. Edges that join two datasets with no
run between them (a JobEvent's static lineage, a model trained on a table) join the datasets
directly; deployments, releases and parent runs are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import sqlalchemy as sa

from strata.lineage import store
from strata.lineage.graph import walk
from strata.meta.schema import lineage_edges, lineage_nodes, lineage_runs
from strata.refs import dataset_name, split_dataset_name

if TYPE_CHECKING:
    from strata.lineage.protocols import LineageView
    from strata.lineage.records import RunRecord

OWN_KINDS = ("table", "model", "features", "file")
"""Kinds of Strata's own things, which are datasets of the lineage's namespace."""
NodeType = Literal["DATASET", "JOB"]
_ROOTS_AT_ONCE = 500


@dataclass(frozen=True, order=True)
class Node:
    """A dataset or a job, by namespace and name."""

    type: NodeType
    namespace: str
    name: str

    @property
    def id(self) -> str:
        """Marquez's node id: ``dataset:NAMESPACE:NAME``, ``job:NAMESPACE:NAME``."""
        return f"{self.type.lower()}:{self.namespace}:{self.name}"


@dataclass(frozen=True)
class DatasetInfo:
    node: Node
    kind: str  # the kind of its nodes: dataset, table, model, features, file
    ref_name: str  # the NAME of its refs, KIND:NAME@VERSION
    created_at: datetime | None
    updated_at: datetime | None
    versions: tuple[str, ...]  # as recorded, oldest first

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.ref_name}"


@dataclass(frozen=True)
class JobInfo:
    node: Node
    created_at: datetime
    updated_at: datetime
    run_count: int
    latest: RunRecord | None = None
    inputs: tuple[Node, ...] = ()
    outputs: tuple[Node, ...] = ()


@dataclass
class NamedGraph:
    root: Node
    edges: set[tuple[Node, Node]] = field(default_factory=set)

    def nodes(self) -> list[Node]:
        found = {self.root}
        for origin, destination in self.edges:
            found |= {origin, destination}
        return sorted(found)


def dataset_of(ref: str, own_namespace: str) -> Node | None:
    """The dataset a data node's ref (``KIND:NAME@VERSION``) is a version of, or None."""
    kind, name, _ = store.split_node(ref)
    name = name.partition("@")[0]
    if kind == "dataset":
        try:
            namespace, dataset = split_dataset_name(name)
        except ValueError:
            return None
        return Node("DATASET", namespace, dataset)
    if kind in OWN_KINDS:
        return Node("DATASET", own_namespace, f"{kind}:{name}")
    return None


def version_of(ref: str) -> str | None:
    """The selector of a ref, as recorded (``4`` of ``table:deliveries@4``)."""
    return ref.partition("@")[2] or None


def ref_parts(node: Node, own_namespace: str) -> tuple[str, str]:
    """(kind, name) of the refs of a dataset's versions."""
    if node.namespace == own_namespace:
        kind, sep, name = node.name.partition(":")
        if sep and kind in OWN_KINDS:
            return kind, name
    return "dataset", dataset_name(node.namespace, node.name)


def _named(pairs: Sequence[tuple[str, str]]) -> sa.ColumnElement[bool]:
    """Nodes of any of the (kind, name) ``pairs``: a name list per kind, which SQLite looks
    up through the (kind, name, version) index (a row-value ``IN`` scans every node)."""
    names: dict[str, list[str]] = {}
    for kind, name in pairs:
        names.setdefault(kind, []).append(name)
    c = lineage_nodes.c
    return sa.or_(*(sa.and_(c.kind == kind, c.name.in_(each)) for kind, each in names.items()))


class NamedView:
    """Namespaces, datasets, jobs and the graph by name, read from the lineage tables."""

    def __init__(self, lineage: LineageView) -> None:
        self.lineage = lineage
        self.own = lineage.namespace

    # -- datasets ---------------------------------------------------------------------------
    def datasets(self, namespace: str | None = None) -> list[DatasetInfo]:
        """Every dataset (of ``namespace``), by namespace and name."""
        kinds: Sequence[str] = ("dataset", *OWN_KINDS)
        prefix = None
        if namespace is not None and namespace != self.own:
            kinds, prefix = ("dataset",), dataset_name(namespace, "")
        elif namespace == self.own:
            kinds = OWN_KINDS
        where: list[sa.ColumnElement[bool]] = [lineage_nodes.c.kind.in_(kinds)]
        if prefix is not None:
            where.append(lineage_nodes.c.name.startswith(prefix, autoescape=True))
        found = self._datasets(where)
        return [d for d in found if namespace is None or d.node.namespace == namespace]

    def dataset(self, namespace: str, name: str) -> DatasetInfo | None:
        node = Node("DATASET", namespace, name)
        return self.datasets_named([node]).get(node)

    def datasets_named(self, nodes: Iterable[Node]) -> dict[Node, DatasetInfo]:
        """The datasets among ``nodes`` that are recorded, a few hundred a query."""
        pairs = sorted({ref_parts(n, self.own) for n in nodes if n.type == "DATASET"})
        found: dict[Node, DatasetInfo] = {}
        for start in range(0, len(pairs), _ROOTS_AT_ONCE):
            chunk = pairs[start : start + _ROOTS_AT_ONCE]
            found.update({d.node: d for d in self._datasets([_named(chunk)])})
        return found

    def _datasets(self, where: Sequence[sa.ColumnElement[bool]]) -> list[DatasetInfo]:
        e, n = lineage_edges.c, lineage_nodes.c
        chosen = sa.select(n.id).where(*where)
        touched = sa.union_all(  # the edges of the chosen nodes only, through their indexes
            sa.select(e.src_id.label("id"), e.recorded_at.label("at")).where(e.src_id.in_(chosen)),
            sa.select(e.dst_id.label("id"), e.recorded_at.label("at")).where(e.dst_id.in_(chosen)),
        ).subquery()
        query = (
            sa.select(n.ref, n.kind, n.name, sa.func.min(touched.c.at), sa.func.max(touched.c.at))
            .select_from(lineage_nodes.outerjoin(touched, touched.c.id == n.id))
            .where(*where)
            .group_by(n.id, n.ref, n.kind, n.name)
            .order_by(n.id)
        )
        grouped: dict[tuple[str, str], list[tuple[str, datetime | None, datetime | None]]] = {}
        with self.lineage.db.transaction("cannot read datasets", write=False) as connection:
            for ref, kind, name, first, last in connection.execute(query):
                grouped.setdefault((kind, name), []).append((ref, first, last))
        found = []
        for (kind, name), rows in grouped.items():
            node = dataset_of(rows[0][0], self.own)
            if node is None:
                continue
            firsts = [r[1] for r in rows if r[1] is not None]
            lasts = [r[2] for r in rows if r[2] is not None]
            versions = tuple(v for v in (version_of(r[0]) for r in rows) if v is not None)
            found.append(
                DatasetInfo(
                    node, kind, name, min(firsts, default=None), max(lasts, default=None), versions
                )
            )
        return sorted(found, key=lambda d: d.node)

    # -- jobs -------------------------------------------------------------------------------
    def namespaces(self) -> dict[str, tuple[datetime | None, datetime | None]]:
        """Every namespace a job or dataset is in: (first seen, last seen)."""
        seen: dict[str, tuple[datetime | None, datetime | None]] = {self.own: (None, None)}
        things: list[tuple[Node, datetime | None, datetime | None]] = [
            (d.node, d.created_at, d.updated_at) for d in self.datasets()
        ]
        things += [(j.node, j.created_at, j.updated_at) for j in self.jobs()]
        for node, first, last in things:
            was_first, was_last = seen.get(node.namespace, (None, None))
            seen[node.namespace] = (
                min((t for t in (was_first, first) if t is not None), default=None),
                max((t for t in (was_last, last) if t is not None), default=None),
            )
        return dict(sorted(seen.items()))

    def jobs(self, namespace: str | None = None, name: str | None = None) -> list[JobInfo]:
        """Every job (of ``namespace``), with how many runs it had and when."""
        c = lineage_runs.c
        query = sa.select(
            c.namespace,
            c.job,
            sa.func.min(c.started_at),
            sa.func.max(sa.func.coalesce(c.ended_at, c.started_at)),
            sa.func.count(),
        ).group_by(c.namespace, c.job)
        if namespace is not None:
            query = query.where(c.namespace == namespace)
        if name is not None:
            query = query.where(c.job == name)
        with self.lineage.db.transaction("cannot read jobs", write=False) as connection:
            rows = list(connection.execute(query))
        found = [
            JobInfo(Node("JOB", ns, job), first, last, runs) for ns, job, first, last, runs in rows
        ]
        return sorted(found, key=lambda j: j.node)

    def job(self, namespace: str, name: str) -> JobInfo | None:
        """One job with its latest run and the datasets its runs read and wrote."""
        found = self.jobs(namespace, name)
        if not found:
            return None
        runs = self.runs(namespace, name, limit=1)
        inputs, outputs = self._job_datasets(namespace, name)
        latest = runs[0] if runs else None
        info = found[0]
        return JobInfo(
            info.node, info.created_at, info.updated_at, info.run_count, latest, inputs, outputs
        )

    def _job_datasets(self, namespace: str, name: str) -> tuple[tuple[Node, ...], tuple[Node, ...]]:
        """What the job's runs read and wrote, found from its runs' nodes through the edges'
        indexes on ``src_id`` and ``dst_id``."""
        e, n, r = lineage_edges.c, lineage_nodes.c, lineage_runs.c
        runs = (
            sa.select(n.id)
            .select_from(lineage_runs.join(lineage_nodes, n.ref == sa.literal("run:") + r.id))
            .where(r.namespace == namespace, r.job == name)
        )
        read = sa.select(sa.literal("input"), n.kind, n.name).join(lineage_edges, e.src_id == n.id)
        read = read.where(e.dst_id.in_(runs), e.kind == "input")
        wrote = sa.select(sa.literal("output"), n.kind, n.name).join(
            lineage_edges, e.dst_id == n.id
        )
        wrote = wrote.where(e.src_id.in_(runs), e.kind == "output")
        inputs: set[Node] = set()
        outputs: set[Node] = set()
        with self.lineage.db.transaction("cannot read jobs", write=False) as connection:
            for way, kind, thing in connection.execute(sa.union(read, wrote)):
                node = dataset_of(f"{kind}:{thing}", self.own)
                if node is not None:
                    (inputs if way == "input" else outputs).add(node)
        return tuple(sorted(inputs)), tuple(sorted(outputs))

    def runs(
        self, namespace: str, name: str, *, limit: int = 100, offset: int = 0
    ) -> list[RunRecord]:
        """The runs of one job, newest first."""
        c = lineage_runs.c
        query = (
            sa.select(c.id)
            .where(c.namespace == namespace, c.job == name)
            .order_by(c.started_at.desc(), c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.lineage.db.transaction("cannot read runs", write=False) as connection:
            ids = list(connection.execute(query).scalars())
        return [self.lineage.run(f"run:{run_id}") for run_id in ids]

    # -- the graph ----------------------------------------------------------------------------
    def graph(self, root: Node, *, depth: int) -> NamedGraph | None:
        """Datasets and jobs up and downstream of ``root``, ``depth`` jobs away at most; None
        when nothing by that name is recorded."""
        with self.lineage.db.transaction("cannot read lineage", write=False) as connection:
            roots = self._roots(connection, root)
            if not roots:
                return None
            jobs: dict[str, Node] = {}
            found = NamedGraph(root)
            for start in range(0, len(roots), _ROOTS_AT_ONCE):
                chunk = roots[start : start + _ROOTS_AT_ONCE]
                edges = walk(connection, chunk, direction="both", depth=2 * depth).edges
                runs = {r.removeprefix("run:") for e in edges for r in (e.src, e.dst)}
                jobs.update(self._jobs_of(connection, runs - jobs.keys()))
                for edge in edges:
                    if edge.kind == store.PARENT:
                        continue
                    origin, destination = self._node(edge.src, jobs), self._node(edge.dst, jobs)
                    if origin is not None and destination is not None and origin != destination:
                        found.edges.add((origin, destination))
        return found

    def _roots(self, connection: sa.Connection, root: Node) -> list[str]:
        if root.type == "JOB":
            c = lineage_runs.c
            query = sa.select(c.id).where(c.namespace == root.namespace, c.job == root.name)
            return [f"run:{run_id}" for run_id in connection.execute(query).scalars()]
        return store.nodes_named(connection, *ref_parts(root, self.own))

    def _jobs_of(self, connection: sa.Connection, run_ids: set[str]) -> dict[str, Node]:
        c = lineage_runs.c
        found: dict[str, Node] = {}
        wanted = sorted(run_ids)
        for start in range(0, len(wanted), _ROOTS_AT_ONCE):
            query = sa.select(c.id, c.namespace, c.job).where(
                c.id.in_(wanted[start : start + _ROOTS_AT_ONCE])
            )
            found.update(
                {row.id: Node("JOB", row.namespace, row.job) for row in connection.execute(query)}
            )
        return found

    def _node(self, ref: str, jobs: dict[str, Node]) -> Node | None:
        if ref.startswith("run:"):
            return jobs.get(ref.removeprefix("run:"))
        return dataset_of(ref, self.own)

    # -- search -------------------------------------------------------------------------------
    def search(self, pattern: str) -> list[tuple[Node, datetime | None]]:
        """Datasets and jobs whose name matches ``pattern`` anywhere, case-insensitively
        (``%`` any text, ``_`` one character, as Marquez's search), with when they changed."""
        regex = re.compile(
            "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern),
            re.IGNORECASE | re.DOTALL,
        )
        things: list[tuple[Node, datetime | None]] = [
            (d.node, d.updated_at) for d in self.datasets()
        ]
        things += [(j.node, j.updated_at) for j in self.jobs()]
        return [(node, at) for node, at in things if regex.search(node.name)]


def parse_node_id(text: str, exists: NamedView) -> Node | None:
    """The node a Marquez node id names (``dataset:NS:NAME``, ``job:NS:NAME``). A namespace may
    hold ``:`` itself (``s3://bucket``, ``postgres://db:5432``): the first split at which a
    recorded dataset or job is found wins; None when none is recorded."""
    kind, sep, rest = text.partition(":")
    if not sep or kind not in ("dataset", "job") or ":" not in rest:
        return None
    node_type: NodeType = "DATASET" if kind == "dataset" else "JOB"
    splits = [i for i, c in enumerate(rest) if c == ":" and 0 < i < len(rest) - 1]
    candidates = [Node(node_type, rest[:i], rest[i + 1 :]) for i in splits]
    for node in candidates:
        if node.type == "JOB" and exists.jobs(node.namespace, node.name):
            return node
        if node.type == "DATASET" and exists.dataset(node.namespace, node.name) is not None:
            return node
    return None
