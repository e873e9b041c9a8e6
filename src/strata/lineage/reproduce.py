"""Reproduce a recorded run: the code at its commit in a git worktree, every input at its
recorded version, the params, the package versions and the command; optionally run it and
check that the outputs and metrics come out the same."""

from __future__ import annotations

import json
import math
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.errors import LineageError, StorageError, StrataError
from strata.lineage.compare import _run_behind
from strata.lineage.run_files import METRICS_FILE, PARAMS_FILE
from strata.objects import ObjectStore, Tree, TreeEntry, hash_file
from strata.paths import unsafe_reason
from strata.refs import parse_ref

if TYPE_CHECKING:
    from strata.lineage.protocols import LineageView
    from strata.lineage.records import RunRecord

REQUIREMENTS_FILE = "requirements.lock.txt"
RECORD_FILE = "strata-reproduce.json"


@dataclass
class Reproduction:
    ref: str
    run: str
    folder: Path
    commit: str
    command: list[str] | None
    materialised: list[str] = field(default_factory=list)
    not_materialised: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    exit_code: int | None = None
    outputs: dict[str, bool] = field(default_factory=dict)
    metrics: dict[str, list[float | None]] = field(default_factory=dict)

    @property
    def matches(self) -> bool | None:
        """Whether the rerun reproduced the outputs and metrics; None when not rerun."""
        if self.exit_code is None:
            return None
        metrics_same = all(_close(a, b) for a, b in self.metrics.values())
        return self.exit_code == 0 and all(self.outputs.values()) and metrics_same

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "run": self.run,
            "folder": str(self.folder),
            "commit": self.commit,
            "command": self.command,
            "materialised": self.materialised,
            "not_materialised": self.not_materialised,
            "warnings": self.warnings,
            "exit_code": self.exit_code,
            "outputs_match": self.outputs,
            "metrics": self.metrics,
            "matches": self.matches,
        }


def _close(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def reproduce(
    lineage: LineageView, text: str, into: Path, *, objects: ObjectStore | None, rerun: bool
) -> Reproduction:
    ref, run = _run_behind(lineage, text)
    git = run.environment.get("git")
    if not git:
        raise LineageError(f"{run.ref} ran outside git: its code cannot be checked out")
    if into.exists() and (not into.is_dir() or any(into.iterdir())):
        raise LineageError(f"{into} is not an empty folder", hint="name a new folder with --into")
    result = Reproduction(ref, run.ref, into, git["commit"], run.command)
    if git.get("dirty"):
        result.warnings.append(
            f"{run.ref} ran with uncommitted changes (diff {git['diff_hash'][:12]}): the "
            "worktree holds the commit without them, so this cannot be exact"
        )
    _worktree(lineage.root, into, git["commit"])
    for item in run.inputs:
        _materialise(lineage, objects, item, into, result)
    _write_recorded(run, into)
    if rerun:
        _rerun(lineage, run, into, objects, result)
    return result


def _worktree(root: Path, into: Path, commit: str) -> None:
    done = subprocess.run(
        ["git", "worktree", "add", "--detach", str(into), commit],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise LineageError(
            f"cannot check out commit {commit[:12]} into {into}: {message}",
            hint="fetch the commit (git fetch) or name another folder",
        )


def _materialise(
    lineage: LineageView, objects: ObjectStore | None, item: str, into: Path, result: Reproduction
) -> None:
    kind = item.partition(":")[0]
    try:
        if kind == "file" and objects is not None:
            _file_version(lineage, objects, item, into)
            result.materialised.append(item)
            return
        materializer = lineage.materializer
        if materializer is not None and materializer(parse_ref(item), into) is not None:
            result.materialised.append(item)
            return
    except StrataError as exc:  # gone (vacuumed, collected): reported, the rest goes on
        result.not_materialised[item] = exc.one_line()
        return
    result.not_materialised[item] = f"nothing in this workspace materialises {kind} versions"


def _file_version(lineage: LineageView, objects: ObjectStore, item: str, into: Path) -> None:
    path, _, prefix = item.removeprefix("file:").partition("@")
    if unsafe_reason(path) is not None:
        raise StorageError(f"unsafe path in {item}")
    matches = [v for v in lineage.db.file_versions(path) if v.hash.startswith(prefix)]
    if not matches:
        raise StorageError(f"{item} is not a recorded file version")
    version = matches[0]
    target = into / path
    if version.kind == "file":
        target.parent.mkdir(parents=True, exist_ok=True)
        objects.checkout(version.hash, target, what=path)
        return
    tree = Tree.from_bytes(objects.read_bytes(version.hash, what=path), what=path)
    for entry in tree.entries:
        dst = target / entry.path
        dst.parent.mkdir(parents=True, exist_ok=True)
        objects.checkout(entry.hash, dst, what=f"{path}/{entry.path}")


def _write_recorded(run: RunRecord, into: Path) -> None:
    import yaml

    if run.params:
        (into / PARAMS_FILE).write_text(yaml.safe_dump(run.params, sort_keys=True), "utf-8")
    packages = run.environment.get("packages") or {}
    lines = [f"{name}=={version}\n" for name, version in sorted(packages.items())]
    (into / REQUIREMENTS_FILE).write_text("".join(lines), "utf-8")
    record = {
        "run": run.ref,
        "job": run.job,
        "command": run.command,
        "python": run.environment.get("python"),
        "inputs": list(run.inputs),
        "outputs": list(run.outputs),
        "metrics": run.metrics,
    }
    (into / RECORD_FILE).write_text(json.dumps(record, indent=2, sort_keys=True), "utf-8")


def _rerun(
    lineage: LineageView,
    run: RunRecord,
    into: Path,
    objects: ObjectStore | None,
    result: Reproduction,
) -> None:
    if not run.command:
        raise LineageError(
            f"{run.ref} recorded no command to run", hint="drop --run and run the code by hand"
        )
    # Strata code in the command sees the same catalog, registry and cache, so reading
    # table:NAME@47 there reads version 47 (time travel), as the original run did.
    env = {**os.environ, "STRATA_METADATA_URL": lineage.db.url}
    if objects is not None:
        env["STRATA_CACHE_DIR"] = str(objects.root)
    try:
        done = subprocess.run(run.command, cwd=into, env=env, check=False)
    except OSError as exc:
        raise LineageError(f"cannot run {run.command[0]!r}: {exc.strerror}") from exc
    result.exit_code = done.returncode
    for item in run.outputs:
        if item.startswith("file:"):
            path, _, prefix = item.removeprefix("file:").partition("@")
            result.outputs[item] = _content_hash(into / path).startswith(prefix)
    try:
        new = json.loads((into / METRICS_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        new = {}
    for name, value in run.metrics.items():
        now = new.get(name) if isinstance(new, dict) else None
        result.metrics[name] = [value, float(now) if isinstance(now, int | float) else None]


def _content_hash(path: Path) -> str:
    """The hash Strata gives a file or a folder ('' when missing)."""
    if path.is_file():
        return hash_file(path)
    if path.is_dir():
        entries = [
            TreeEntry(p.relative_to(path).as_posix(), hash_file(p), p.stat().st_size)
            for p in sorted(path.rglob("*"))
            if p.is_file()
        ]
        return Tree.build(entries).hash
    return ""
