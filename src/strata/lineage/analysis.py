"""Provenance (everything upstream of a version) and impact (everything downstream)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from strata.errors import LineageError
from strata.lineage import store
from strata.lineage.graph import Graph, walk
from strata.meta.schema import file_versions
from strata.refs import Ref, Timestamp, Version, VersionRange, format_ref, parse_ref

if TYPE_CHECKING:
    from strata.lineage.protocols import LineageView
    from strata.lineage.records import RunRecord

DATA_KINDS = ("table", "file", "dataset")


def describe(lineage: LineageView, ref_text: str) -> dict[str, Any]:
    """What is known about one exact version: recorded here (files, feature sets) or by the
    describers the workspace wired (tables, models)."""
    kind = ref_text.partition(":")[0]
    if kind == "file":
        return describe_files(lineage, [ref_text]).get(ref_text, {})
    if kind == "features":
        ref = parse_ref(ref_text, expect="features")
        number = ref.selector.number if isinstance(ref.selector, Version) else None
        for fs in lineage.feature_sets(ref.name):
            if fs.version == number:
                return fs.to_dict()
        return {}
    if kind in ("table", "model"):
        return lineage.describer.describe(parse_ref(ref_text)) or {}
    return {}


def describe_files(lineage: LineageView, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``file:PATH@PREFIX`` → its recorded version (hash, kind, size, files, recorded_at), for
    many refs in one query."""
    wanted = {r: r.removeprefix("file:").partition("@")[::2] for r in refs if r.startswith("file:")}
    if not wanted:
        return {}
    c = file_versions.c
    paths = sorted({path for path, _ in wanted.values()})
    found: dict[str, dict[str, Any]] = {}
    with lineage.db.transaction("cannot read file versions", write=False) as connection:
        rows = list(connection.execute(sa.select(file_versions).where(c.path.in_(paths))))
    by_path: dict[str, list[Any]] = {}
    for row in rows:
        by_path.setdefault(row.path, []).append(row)
    for ref, (path, prefix) in wanted.items():
        for row in by_path.get(path, ()):
            if prefix and row.hash.startswith(prefix):
                found[ref] = {
                    "hash": row.hash,
                    "kind": row.kind,
                    "size": row.size,
                    "files": row.files,
                    "recorded_at": row.recorded_at,
                }
    return found


def roots(lineage: LineageView, text: str) -> list[str]:
    """The recorded nodes a ref names: one exact version, or every version of a range."""
    ref = parse_ref(text, expect=("table", "file", "features", "model", "run", "dataset"))
    if isinstance(ref.selector, VersionRange):
        return _range_roots(lineage, ref, ref.selector)
    if ref.kind == "dataset" and ref.selector is None:  # every version events named
        with lineage.db.transaction("cannot read lineage", write=False) as connection:
            found = store.nodes_named(connection, "dataset", ref.name)
        if found:
            return found
    exact = lineage.exact(format_ref(ref))
    with lineage.db.transaction("cannot read lineage", write=False) as connection:
        if store.node_exists(connection, exact):
            return [exact]
    if exact.startswith("run:") or describe(lineage, exact):
        return [exact]
    raise LineageError(
        f"nothing is recorded about {exact}: no run read or wrote it",
        hint="check the ref, or list what is recorded with `strata runs`",
    )


def _range_roots(lineage: LineageView, ref: Ref, selector: VersionRange) -> list[str]:
    if isinstance(selector.start, Timestamp) or isinstance(selector.end, Timestamp):
        raise LineageError(
            f"cannot use the timestamp range {format_ref(ref)} for lineage",
            hint=f"give version numbers, e.g. {ref.kind}:{ref.name}@40..52",
        )
    with lineage.db.transaction("cannot read lineage", write=False) as connection:
        found = store.nodes_in_range(
            connection, ref.kind, ref.name, selector.start.number, selector.end.number
        )
    if not found:
        raise LineageError(
            f"nothing is recorded about any version in {format_ref(ref)}",
            hint="check the name and the range",
        )
    return found


def graph(lineage: LineageView, text: str, *, direction: str, depth: int) -> Graph:
    if depth < 1:
        raise LineageError(f"bad depth {depth}", hint="give --depth 1 or more")
    found = roots(lineage, text)
    with lineage.db.transaction("cannot read lineage", write=False) as connection:
        return walk(connection, found, direction=direction, depth=depth)  # type: ignore[arg-type]


# -- provenance ---------------------------------------------------------------------------
def producing_runs(g: Graph, ref: str) -> list[str]:
    """Runs with an edge straight into ``ref``."""
    return [e.src for e in g.edges if e.dst == ref and e.src.startswith("run:")]


def provenance(lineage: LineageView, text: str) -> dict[str, Any]:
    """The whole chain behind one version: data → features → code → run → version → serving.

    Every upstream data version is listed with the path that links it; the direct inputs (read
    by the run that produced the version, or linked to it) carry the catalog's details too
    (timestamp, row count, schema hash), and file versions their recorded hash and size."""
    [target] = roots(lineage, text)
    with lineage.db.transaction("cannot read lineage", write=False) as connection:
        up = walk(connection, [target], direction="upstream")
        # A deployment is recorded with its edge in one transaction: no walk needed.
        deployed = (
            store.deployments(connection, models=[target]) if target.startswith("model:") else []
        )
    runs = [lineage.run(r) for r in producing_runs(up, target)]
    producers = {r.ref for r in runs}
    direct = {e.src for e in up.edges if e.dst == target or e.dst in producers}
    paths = up.paths("upstream")
    upstream = [ref for ref in up.refs() if ref != target]
    files = describe_files(lineage, upstream)
    data = [
        {
            "ref": ref,
            "direct": ref in direct,
            "path": paths[ref][::-1],
            **(files.get(ref) or (describe(lineage, ref) if ref in direct else {})),
        }
        for ref in upstream
        if ref.partition(":")[0] in DATA_KINDS
    ]
    features = [
        {"ref": ref, "direct": ref in direct, **describe(lineage, ref)}
        for ref in upstream
        if ref.startswith("features:")
    ]
    deployments = [d.to_dict() for d in deployed]
    return {
        "ref": target,
        "generated_at": datetime.now(UTC).isoformat(),
        "artifact": describe(lineage, target),
        "data": data,
        "features": features,
        "runs": [_run_summary(r) for r in runs],
        "code": [r.environment.get("git") for r in runs],
        "upstream_runs": [
            {"ref": ref, "label": up.labels.get(ref), "path": paths[ref][::-1]}
            for ref in upstream
            if ref.startswith("run:") and ref not in producers
        ],
        "deployments": deployments,
        "edges": [e.to_dict() for e in up.edges],
        "warnings": _warnings(runs, target),
    }


def _run_summary(run: RunRecord) -> dict[str, Any]:
    data = run.to_dict()
    data["environment"] = dict(run.environment)
    return data


def _warnings(runs: Sequence[RunRecord], target: str) -> list[str]:
    notes = []
    if not runs:
        notes.append(f"no recorded run produced {target}")
    for run in runs:
        git = run.environment.get("git")
        if git is None:
            notes.append(f"{run.ref} ran outside git: its code version is unknown")
        elif git.get("dirty"):
            notes.append(f"{run.ref} ran with uncommitted changes (diff {git['diff_hash'][:12]})")
        if run.status != "completed":
            notes.append(f"{run.ref} is {run.status}: its outputs may be partial")
    return notes


# -- impact -------------------------------------------------------------------------------
@dataclass
class Affected:
    ref: str
    kind: str
    path: list[str]
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "kind": self.kind, "path": self.path, **self.details}


@dataclass
class Impact:
    roots: list[str]
    affected: list[Affected]
    suggestions: dict[str, str | None] = field(default_factory=dict)
    archived: list[str] = field(default_factory=list)

    def models(self) -> list[Affected]:
        return [a for a in self.affected if a.kind == "model"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "roots": self.roots,
            "affected": [a.to_dict() for a in self.affected],
            "rollback_suggestions": self.suggestions,
            "archived": self.archived,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Impact:
        """The impact ``to_dict`` gave (e.g. a Strata server's JSON)."""
        affected = [
            Affected(
                a["ref"], a["kind"], list(a["path"]),
                {k: v for k, v in a.items() if k not in ("ref", "kind", "path")},
            )
            for a in data["affected"]
        ]  # fmt: skip
        return cls(
            list(data["roots"]), affected, dict(data["rollback_suggestions"]),
            list(data["archived"]),
        )  # fmt: skip


def impact(lineage: LineageView, text: str, *, depth: int = 1000) -> Impact:
    """Every run, data version, model version and deployment downstream of ``text``."""
    return impact_of(lineage, roots(lineage, text), depth=depth)


def impact_of(lineage: LineageView, found: list[str], *, depth: int = 1000) -> Impact:
    """Every run, data version, model version and deployment downstream of the nodes
    ``found``."""
    with lineage.db.transaction("cannot read lineage", write=False) as connection:
        g = walk(connection, found, direction="downstream", depth=depth)
    paths = g.paths("downstream")
    affected: list[Affected] = []
    models = [ref for ref in paths if ref.startswith("model:") and ref not in found]
    deployed: dict[str, list[dict[str, Any]]] = {}
    if models:
        with lineage.db.transaction("cannot read deployments", write=False) as connection:
            for d in store.deployments(connection, models=models):
                deployed.setdefault(d.model, []).append(d.to_dict())
    for ref, path in sorted(paths.items(), key=lambda item: (len(item[1]), item[0])):
        if ref in found:
            continue
        kind = ref.partition(":")[0]
        details: dict[str, Any] = {}
        if kind == "run":
            details["job"] = g.labels.get(ref)
        if kind == "model":
            details.update(describe(lineage, ref))
            details["deployments"] = deployed.get(ref, [])
        affected.append(Affected(ref, kind, path, details))
    return Impact(found, affected)


def suggest_rollbacks(lineage: LineageView, result: Impact) -> dict[str, str | None]:
    """For each affected model, the newest recorded version trained on none of the affected
    data (None when there is none)."""
    bad = {a.ref for a in result.affected} | set(result.roots)
    suggestions: dict[str, str | None] = {}
    names = sorted({a.ref.removeprefix("model:").partition("@")[0] for a in result.models()})
    with lineage.db.transaction("cannot read lineage", write=False) as connection:
        for name in names:
            versions = store.nodes_in_range(connection, "model", name, 0, 2**63 - 1)
            clean = [v for v in versions if v not in bad]
            suggestions[f"model:{name}"] = clean[-1] if clean else None
    return suggestions
