"""Compare two model versions (or runs): did the data, the code, the params or the environment
change? Side by side, then a one-line verdict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from strata.errors import LineageError
from strata.lineage.analysis import describe, producing_runs, roots
from strata.lineage.graph import walk
from strata.scm import Git

if TYPE_CHECKING:
    from strata.lineage.protocols import LineageView
    from strata.lineage.records import RunRecord

_STAT_KEYS = ("row_count", "schema_hash", "timestamp", "hash", "size")


class Recorded(Protocol):
    """What compare reads of each side: a run record, or a version's registered facts."""

    @property
    def ref(self) -> str | None: ...
    @property
    def inputs(self) -> tuple[str, ...]: ...
    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def metrics(self) -> dict[str, float]: ...
    @property
    def environment(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RegisteredFacts:
    """A model version registered outside any run: its data and feature refs, metrics and
    git commit as the registry recorded them; no params or environment are known."""

    ref: str | None
    inputs: tuple[str, ...]
    metrics: dict[str, float]
    environment: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)


def _run_behind(lineage: LineageView, text: str) -> tuple[str, RunRecord]:
    """The ref ``text`` names and the run that produced it (or the run it names)."""
    found = _producing_run(lineage, text)
    if isinstance(found[1], str):
        raise LineageError(f"no recorded run produced {found[0]}", hint="compare runs instead")
    return found[0], found[1]


def _producing_run(lineage: LineageView, text: str) -> tuple[str, RunRecord | str]:
    [ref] = roots(lineage, text)
    if ref.startswith("run:"):
        return ref, lineage.run(ref)
    with lineage.db.transaction("cannot read lineage", write=False) as connection:
        g = walk(connection, [ref], direction="upstream", depth=1)
    runs = producing_runs(g, ref)
    return (ref, lineage.run(runs[-1])) if runs else (ref, ref)


def _recorded_behind(lineage: LineageView, text: str) -> tuple[str, Recorded]:
    """The run that produced ``text``; for a model version registered outside any run, the
    facts the registry recorded with it."""
    ref, found = _producing_run(lineage, text)
    if not isinstance(found, str):
        return ref, found
    facts = describe(lineage, ref)
    if "data_refs" not in facts:
        raise LineageError(f"no recorded run produced {ref}", hint="compare runs instead")
    features = (facts["features_ref"],) if facts.get("features_ref") else ()
    commit = facts.get("git_commit")
    git = {"commit": commit, "dirty": facts.get("git_dirty")} if commit else {}
    return ref, RegisteredFacts(
        ref=None,
        inputs=(*facts["data_refs"], *features),
        metrics=dict(facts.get("metrics") or {}),
        environment={"git": git} if git else {},
    )


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _changed(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [a.get(k), b.get(k)] for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def _by_name(refs: tuple[str, ...]) -> dict[str, str]:
    return {ref.partition("@")[0]: ref.partition("@")[2] for ref in refs}


def _data(lineage: LineageView, a: Recorded, b: Recorded, kinds: tuple[str, ...]) -> list[Any]:
    left = {n: v for n, v in _by_name(a.inputs).items() if n.partition(":")[0] in kinds}
    right = {n: v for n, v in _by_name(b.inputs).items() if n.partition(":")[0] in kinds}
    rows = []
    for name in sorted(set(left) | set(right)):
        row: dict[str, Any] = {"name": name, "a": left.get(name), "b": right.get(name)}
        row["changed"] = row["a"] != row["b"]
        if row["changed"] and row["a"] and row["b"]:
            da = describe(lineage, f"{name}@{row['a']}")
            db = describe(lineage, f"{name}@{row['b']}")
            row["stats"] = _changed(
                {k: da.get(k) for k in _STAT_KEYS}, {k: db.get(k) for k in _STAT_KEYS}
            )
            row["columns"] = _changed(da.get("columns") or {}, db.get("columns") or {})
        rows.append(row)
    return rows


def _code(lineage: LineageView, a: Recorded, b: Recorded) -> dict[str, Any]:
    ga, gb = a.environment.get("git") or {}, b.environment.get("git") or {}
    known = bool(ga.get("commit")) and bool(gb.get("commit"))
    code: dict[str, Any] = {
        "a": ga or None,
        "b": gb or None,
        "changed": (
            (ga.get("commit"), ga.get("diff_hash")) != (gb.get("commit"), gb.get("diff_hash"))
            if known
            else None
        ),
    }
    if ga.get("commit") and gb.get("commit") and ga["commit"] != gb["commit"]:
        code["commits_between"] = _git_lines(
            lineage, "log", "--oneline", f"{ga['commit']}..{gb['commit']}"
        )
        code["files_changed"] = _git_lines(
            lineage, "diff", "--name-only", ga["commit"], gb["commit"]
        )
    return code


def _git_lines(lineage: LineageView, *args: str) -> list[str] | None:
    """Output lines of a read-only git command, or None when the commits are not here."""
    out = Git(lineage.root).try_output(*args)
    return None if out is None else out.decode(errors="replace").splitlines()


def _environment(a: Recorded, b: Recorded) -> dict[str, Any]:
    """Python, OS, host and packages side by side; ``changed`` is None when a side has no
    recorded environment (registered outside any run, or ingested from another tool)."""
    ea, eb = a.environment, b.environment
    known = "python" in ea and "python" in eb
    pa, pb = ea.get("packages") or {}, eb.get("packages") or {}
    return {
        "python": [ea.get("python"), eb.get("python")],
        "os": [ea.get("os"), eb.get("os")],
        "host": [ea.get("host"), eb.get("host")],
        "packages": _changed(pa, pb) if known else {},
        "changed": (
            (ea.get("python") != eb.get("python") or pa != pb or ea.get("os") != eb.get("os"))
            if known
            else None
        ),
    }


def _unknown(sides: tuple[tuple[str, Recorded], ...]) -> list[str]:
    """What is not recorded, and for which side: compared only as far as both have it."""
    missing: dict[str, list[str]] = {"environment": [], "code version": [], "params": []}
    for ref, side in sides:
        if "python" not in side.environment:
            missing["environment"].append(ref)
        if not (side.environment.get("git") or {}).get("commit"):
            missing["code version"].append(ref)
        if isinstance(side, RegisteredFacts):  # registered outside a run
            missing["params"].append(ref)
    return [
        f"{what} not recorded for {' and '.join(refs)}" for what, refs in missing.items() if refs
    ]


def compare(lineage: LineageView, left: str, right: str) -> dict[str, Any]:
    ref_a, a = _recorded_behind(lineage, left)
    ref_b, b = _recorded_behind(lineage, right)
    data = _data(lineage, a, b, ("table", "file", "dataset"))
    features = _data(lineage, a, b, ("features",))
    unknown = _unknown(((ref_a, a), (ref_b, b)))
    params_known = not isinstance(a, RegisteredFacts) and not isinstance(b, RegisteredFacts)
    params = _changed(_flatten(a.params), _flatten(b.params)) if params_known else {}
    metrics = {
        k: [a.metrics.get(k), b.metrics.get(k)] for k in sorted(set(a.metrics) | set(b.metrics))
    }
    result = {
        "a": {"ref": ref_a, "run": a.ref},
        "b": {"ref": ref_b, "run": b.ref},
        "data": data,
        "features": features,
        "code": _code(lineage, a, b),
        "params": params,
        "metrics": metrics,
        "environment": _environment(a, b),
        "unknown": unknown,
    }
    result["verdict"] = verdict(result)
    return result


def shown(version: object) -> str:
    """A side of a data row: its version, or that it was not an input there."""
    return "(not read)" if version is None else str(version)


def verdict(result: Mapping[str, Any]) -> str:
    """One line naming what differs between the two, and what is not recorded."""
    changes = []
    data = [r for r in result["data"] if r["changed"]]
    if data:
        changes.append(
            "data ("
            + ", ".join(f"{r['name']} {shown(r['a'])} → {shown(r['b'])}" for r in data)
            + ")"
        )
    if any(r["changed"] for r in result["features"]):
        changes.append("feature set")
    if result["code"]["changed"]:
        changes.append("code")
    if result["params"]:
        changes.append("params (" + ", ".join(result["params"]) + ")")
    if result["environment"]["changed"]:
        changes.append("environment")
    unknown = list(result.get("unknown") or [])
    tail = f" ({'; '.join(unknown)})" if unknown else ""
    checks = (
        ("data", bool(data), False),
        ("code", result["code"]["changed"], any(n.startswith("code ") for n in unknown)),
        ("params", bool(result["params"]), any(n.startswith("params ") for n in unknown)),
        ("environment", result["environment"]["changed"], result["environment"]["changed"] is None),
    )
    same = [name for name, changed, not_known in checks if not changed and not not_known]
    if not changes:
        if not same:
            return "nothing recorded to compare" + tail
        return "nothing recorded differs: same " + ", ".join(same) + tail
    return "changed: " + "; ".join(changes) + (f"; same {', '.join(same)}" if same else "") + tail
