"""Plain-text forms of provenance, impact and compare results, for people to read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from strata.lineage.analysis import Impact
from strata.lineage.compare import shown
from strata.lineage.records import RunRecord


def _describe(item: Mapping[str, Any]) -> str:
    parts = []
    for key in ("timestamp", "recorded_at", "row_count", "schema_hash", "size"):
        if item.get(key) is not None:
            value = item[key]
            if key == "schema_hash":
                value = str(value)[:12]
            parts.append(f"{key.replace('_', ' ')} {value}")
    return f" ({', '.join(parts)})" if parts else ""


def provenance_text(chain: Mapping[str, Any]) -> str:
    lines = [f"provenance of {chain['ref']}"]
    artifact = chain.get("artifact") or {}
    for key in ("semver", "stages", "stage", "aliases", "artifact_hash"):
        if artifact.get(key) not in (None, [], {}):
            lines.append(f"  {key}: {artifact[key]}")
    lines.append("data:")
    lines += [f"  {d['ref']}{_describe(d)}" for d in chain["data"]] or ["  (none recorded)"]
    lines.append("features:")
    for f in chain["features"]:
        lines.append(f"  {f['ref']}: {', '.join(f.get('features', []))}")
    if not chain["features"]:
        lines.append("  (none recorded)")
    lines.append("code:")
    for git in chain["code"]:
        if git is None:
            lines.append("  (not in git)")
        else:
            dirty = f", DIRTY (diff {git['diff_hash'][:12]})" if git.get("dirty") else ", clean"
            dirty = dirty if "dirty" in git else ""  # a tracking client records the commit only
            branch = git.get("branch") or "detached"
            where = git.get("repository") or "(repository not recorded)"
            lines.append(f"  {where} @ {git['commit'][:12]} ({branch}{dirty})")
    lines.append("runs:")
    for run in chain["runs"]:
        env = run["environment"]
        lines.append(
            f"  run:{run['id']} {run['job']} {run['status']} at {run['started_at']}"
            f"; python {env.get('python')}, {len(env.get('packages') or {})} packages, "
            f"{env.get('os')}, host {env.get('host')}"
            + (f", by {env['user']}" if env.get("user") else "")
        )
        if run["params"]:
            lines.append(f"    params: {run['params']}")
        if run["metrics"]:
            lines.append(f"    metrics: {run['metrics']}")
    if not chain["runs"]:
        lines.append("  (none recorded)")
    lines.append("serving:")
    for d in chain["deployments"]:
        lines.append(f"  {d['target']} {d.get('image') or ''} since {d['deployed_at']}".rstrip())
    if not chain["deployments"]:
        lines.append("  (not deployed)")
    lines += [f"warning: {w}" for w in chain["warnings"]]
    return "\n".join(lines)


def impact_text(result: Impact) -> str:
    lines = [f"impact of {', '.join(result.roots)}"]
    if not result.affected:
        lines.append("  nothing downstream is recorded")
    for item in result.affected:
        extra = ""
        if item.kind == "model":
            deployed = [
                f"{d['target']} ({d.get('image') or '-'})" for d in item.details["deployments"]
            ]
            stage = item.details.get("stage") or item.details.get("stages")
            aliases = item.details.get("aliases")
            bits = [f"stage {stage}" if stage else "", f"aliases {aliases}" if aliases else ""]
            bits.append("deployed to " + ", ".join(deployed) if deployed else "not deployed")
            extra = "  " + "; ".join(b for b in bits if b)
        lines.append(f"  {item.ref}{extra}")
        lines.append(f"    via {' -> '.join(item.path)}")
    for model, target in result.suggestions.items():
        lines.append(f"rollback {model}: {target or 'no unaffected version recorded'}")
    lines += [f"archived {ref}" for ref in result.archived]
    return "\n".join(lines)


def compare_text(result: Mapping[str, Any]) -> str:
    a, b = result["a"]["ref"], result["b"]["ref"]
    lines = [f"{a}  vs  {b}"]
    for section in ("data", "features"):
        lines.append(f"{section}:")
        for row in result[section]:
            mark = "changed" if row["changed"] else "same"
            lines.append(f"  {row['name']}: {shown(row['a'])} -> {shown(row['b'])} ({mark})")
            for key, (old, new) in (row.get("stats") or {}).items():
                lines.append(f"    {key}: {old} -> {new}")
            for key, (old, new) in (row.get("columns") or {}).items():
                lines.append(f"    column {key}: {old} -> {new}")
    code = result["code"]
    lines.append(f"code: {_commit(code['a'])} -> {_commit(code['b'])}")
    if code.get("files_changed"):
        lines.append(f"  files changed: {', '.join(code['files_changed'])}")
    if code.get("commits_between"):
        lines.append(f"  commits: {len(code['commits_between'])}")
    unknown = list(result.get("unknown") or [])
    params_unknown = any(n.startswith("params ") for n in unknown)
    lines.append(
        "params:" + (" unknown" if params_unknown else "" if result["params"] else " same")
    )
    lines += [f"  {k}: {_value(v[0])} -> {_value(v[1])}" for k, v in result["params"].items()]
    lines.append("metrics:")
    lines += [f"  {k}: {_value(v[0])} -> {_value(v[1])}" for k, v in result["metrics"].items()]
    env = result["environment"]
    python = [_value(v) for v in env["python"]]
    lines.append(f"environment: python {python[0]} -> {python[1]}")
    lines += [f"  {k}: {_value(v[0])} -> {_value(v[1])}" for k, v in env["packages"].items()]
    lines += [f"unknown: {note}" for note in unknown]
    lines.append(f"verdict: {result['verdict']}")
    return "\n".join(lines)


def _value(value: object) -> str:
    return "(not recorded)" if value is None else str(value)


def _commit(git: Mapping[str, Any] | None) -> str:
    if not git:
        return "(unknown)"
    return str(git["commit"])[:12] + (" (dirty)" if git.get("dirty") else "")


def runs_text(runs: Sequence[RunRecord]) -> str:
    rows = [
        f"run:{r.id}  {r.job:<24} {r.status:<10} {r.started_at:%Y-%m-%d %H:%M:%S}"
        + ("" if r.exit_code is None else f"  exit {r.exit_code}")
        for r in runs
    ]
    return "\n".join(rows) if rows else "no runs recorded"


def run_text(run: RunRecord) -> str:
    git = run.environment.get("git")
    lines = [
        f"run:{run.id}  {run.job}  {run.status}"
        + ("" if run.exit_code is None else f" (exit {run.exit_code})"),
        f"  started {run.started_at}, ended {run.ended_at or '-'}",
        f"  command: {' '.join(run.command) if run.command else '-'}",
        f"  code: {_commit(git)}",
        f"  params: {run.params}",
        f"  metrics: {run.metrics}",
    ]
    if run.parent:
        lines.append(f"  parent {run.parent}")
    lines += [f"  input  {ref}" for ref in run.inputs]
    partial = " (partial: the run did not complete)" if run.partial_outputs else ""
    lines += [f"  output {ref}{partial}" for ref in run.outputs]
    if run.error:
        lines.append(f"  error: {run.error}")
    return "\n".join(lines)
