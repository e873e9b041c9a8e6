"""``dvc.yaml`` → ``strata.yaml`` and ``dvc.lock`` → ``strata.lock``.

The stage keys both tools share carry over (``cmd``, ``wdir``, ``desc``, ``deps``, ``params``,
``outs``, ``metrics``, ``plots``, ``frozen``, ``vars``, ``foreach``/``do``); what Strata
cannot express — an output DVC does not cache or keeps between runs, ``always_changed``,
``matrix``, stage-level ``vars``, a whole params file — is refused, each named with its stage,
before anything is written. The top-level ``metrics``/``params``/``plots``/``artifacts``
sections only tell DVC what to show: they are reported as notes.

The lock keeps what DVC recorded where the workspace still matches it (the md5 of each
dependency and output now equals dvc.lock's): then the entry holds Strata's hash of the same
content, and ``strata repro`` finds the stage up to date exactly when ``dvc repro`` would.
Where they differ, the entry holds ``md5:…``, which matches nothing, so the stage runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.errors import PipelineFileError
from strata.paths import atomic_write
from strata.pipelines.current import CurrentState
from strata.pipelines.datafiles import load_data
from strata.pipelines.lock import Lockfile, OutState, StageState
from strata.pipelines.parse import parse_pipeline
from strata.pipelines.repro import read_workspace_file
from strata.pipelines.spec import LOCK_FILE, PIPELINE_FILE, Pipeline, Stage

if TYPE_CHECKING:
    from strata.pipelines.parts import PipelineParts

DVC_PIPELINE = "dvc.yaml"
DVC_LOCK = "dvc.lock"
_COPIED = ("wdir", "desc", "frozen", "deps")
_TOP_NOTES = ("metrics", "params", "plots", "artifacts")
_PLOT_OPTIONS = ("x", "y", "title")
_READ = 1024 * 1024


class PipelineNotConverted(PipelineFileError):
    """dvc.yaml cannot become strata.yaml (raised before anything is written)."""


@dataclass
class ConvertedPipeline:
    """``strata.yaml``'s text, its parsed stages, and what was left out, with why."""

    text: str
    pipeline: Pipeline
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"stages": sorted(self.pipeline.stages), "notes": list(self.notes)}


@dataclass
class PipelineImport:
    converted: ConvertedPipeline
    written: list[str] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)  # stages given a strata.lock entry

    def to_dict(self) -> dict[str, object]:
        return {**self.converted.to_dict(), "written": self.written, "locked": self.locked}


def _stage_body(name: str, body: Mapping[str, Any], refused: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cmd = body.get("cmd")
    out["cmd"] = " && ".join(str(c) for c in cmd) if isinstance(cmd, list) else cmd
    for key in _COPIED:
        if key in body:
            out[key] = body[key]
    for key in ("vars", "matrix"):
        if key in body:
            refused.append(f"stage {name}: `{key}` inside a stage")
    if body.get("always_changed") is True:
        refused.append(f"stage {name}: always_changed")
    if "params" in body:
        out["params"] = _params(name, body["params"], refused)
    for key in ("outs", "metrics"):
        if key in body:
            out[key] = _paths(name, key, body[key], refused)
    if "plots" in body:
        out["plots"] = _plots(name, body["plots"], refused)
    known = {"cmd", "always_changed", "params", "outs", "metrics", "plots", "vars", "matrix"}
    for key in sorted(set(body) - known - set(_COPIED)):
        refused.append(f"stage {name}: unknown key `{key}`")
    return out


def _params(name: str, entries: Any, refused: list[str]) -> list[Any]:
    found: list[Any] = []
    for entry in entries if isinstance(entries, list) else [entries]:
        if isinstance(entry, dict):
            for file, keys in entry.items():
                if not keys:
                    refused.append(f"stage {name}: params: every param of {file}")
                else:
                    found.append({file: keys})
        else:
            found.append(entry)
    return found


def _paths(name: str, key: str, entries: Any, refused: list[str]) -> list[str]:
    found: list[str] = []
    for entry in entries if isinstance(entries, list) else [entries]:
        if not isinstance(entry, dict):
            found.append(str(entry))
            continue
        for path, options in entry.items():
            options = options if isinstance(options, dict) else {}
            if key == "outs" and options.get("cache") is False:
                refused.append(f"stage {name}: outs {path}: cache: false")
            if options.get("persist") is True:
                refused.append(f"stage {name}: {key} {path}: persist: true")
            found.append(str(path))
    return found


def _plots(name: str, entries: Any, refused: list[str]) -> list[Any]:
    found: list[Any] = []
    for entry in entries if isinstance(entries, list) else [entries]:
        if not isinstance(entry, dict):
            found.append(str(entry))
            continue
        for path, options in entry.items():
            options = options if isinstance(options, dict) else {}
            if options.get("persist") is True:
                refused.append(f"stage {name}: plots {path}: persist: true")
            kept = {k: options[k] for k in _PLOT_OPTIONS if isinstance(options.get(k), str)}
            found.append({str(path): kept} if kept else str(path))
    return found


def convert_pipeline(root: Path, text: str) -> ConvertedPipeline:
    """``strata.yaml`` for a dvc.yaml's text, checked by Strata's own parser;
    PipelineFileError naming every stage and feature Strata cannot express."""
    doc = load_data(DVC_PIPELINE, text.encode("utf-8")) or {}
    if not isinstance(doc, dict):
        raise PipelineFileError(f"{DVC_PIPELINE} is not a mapping")
    refused: list[str] = []
    notes = [
        f"top-level `{key}` in {DVC_PIPELINE} is not carried over ("
        + (
            "its paths give GTO's tagged versions their files"
            if key == "artifacts"
            else "Strata reads metrics, params and plots from the stages"
        )
        + ")"
        for key in _TOP_NOTES
        if key in doc
    ]
    for key in sorted(set(doc) - {"stages", "vars", *_TOP_NOTES}):
        refused.append(f"top-level `{key}`")
    stages: dict[str, Any] = {}
    for name, body in (doc.get("stages") or {}).items():
        if not isinstance(body, dict):
            raise PipelineFileError(f"{DVC_PIPELINE}: stage {name} is not a mapping")
        if "matrix" in body:
            refused.append(f"stage {name}: matrix")
            continue
        if "foreach" in body:
            do = body.get("do")
            do = do if isinstance(do, dict) else {}
            stages[name] = {"foreach": body["foreach"], "do": _stage_body(name, do, refused)}
        else:
            stages[name] = _stage_body(name, body, refused)
    if refused:
        raise PipelineNotConverted(
            f"{DVC_PIPELINE} uses what Strata cannot express: " + "; ".join(refused),
            hint="change those stages in dvc.yaml, or pass --skip-pipeline to migrate the data "
            "only",
        )
    out: dict[str, Any] = {"vars": doc["vars"]} if "vars" in doc else {}
    out["stages"] = stages
    new_text = _dump(out)
    _check_target(root, new_text)
    pipeline = parse_pipeline(new_text, read_workspace_file(root), PIPELINE_FILE)
    return ConvertedPipeline(new_text, pipeline, notes)


def _check_target(root: Path, text: str) -> None:
    """Refuse to replace a strata.yaml other than this conversion's."""
    target = root / PIPELINE_FILE
    if target.is_file() and target.read_text(encoding="utf-8") != text:
        raise PipelineNotConverted(
            f"{PIPELINE_FILE} exists already and differs from the converted {DVC_PIPELINE}",
            hint=f"move {PIPELINE_FILE} away to convert {DVC_PIPELINE} again, or pass "
            "--skip-pipeline",
        )


def _dump(doc: Mapping[str, Any]) -> str:
    import yaml

    header = f"# Converted from {DVC_PIPELINE} by `strata migrate dvc`.\n"
    return header + yaml.safe_dump(dict(doc), sort_keys=False, default_flow_style=False)


# -- the lock --------------------------------------------------------------------------------
def md5_now(path: Path) -> str | None:
    """DVC's md5 of a workspace file or folder now (a folder's is its ``.dir`` listing's)."""
    if path.is_file():
        return _file_md5(path)
    if not path.is_dir():
        return None
    rows = []
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        for name in files:
            full = Path(folder, name)
            rows.append({"md5": _file_md5(full), "relpath": full.relative_to(path).as_posix()})
    rows.sort(key=lambda r: r["relpath"])
    return hashlib.md5(json.dumps(rows, sort_keys=True).encode()).hexdigest() + ".dir"


def _file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while chunk := fh.read(_READ):
            digest.update(chunk)
    return digest.hexdigest()


def _md5s(entries: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("path"), str) and "md5" in entry:
            found[os.path.normpath(entry["path"])] = str(entry["md5"])
    return found


def _state(stage: Stage, locked: Mapping[str, Any], current: CurrentState) -> StageState:
    root = current.parts.root
    wdir = "" if stage.wdir == "." else stage.wdir

    def same(path: str, md5s: Mapping[str, str]) -> str | None:
        """Strata's hash of ``path`` when DVC's md5 of it still matches the lock's."""
        recorded = md5s.get(os.path.normpath(os.path.relpath(path, wdir or ".")))
        recorded = recorded or md5s.get(path)
        if recorded is None or md5_now(root / path) != recorded:
            return f"md5:{recorded}"
        found = current.path_hash(path)
        return None if found is None else found[0]

    cmd = locked.get("cmd")
    dep_md5s, out_md5s = _md5s(locked.get("deps")), _md5s(locked.get("outs"))
    deps = {d: same(d, dep_md5s) or "md5:" for d in stage.deps}
    outs: dict[str, OutState] = {}
    for out in stage.path_outs:
        found = current.path_hash(out)
        kind = found[1] if found else "file"
        outs[out] = OutState(same(out, out_md5s) or "md5:", kind)
    for path in (*stage.metrics, *(p.path for p in stage.plots)):
        outs[path] = OutState(same(path, out_md5s) or "md5:", "metric")
    params = locked.get("params") if isinstance(locked.get("params"), dict) else {}
    return StageState(
        cmd=" && ".join(map(str, cmd)) if isinstance(cmd, list) else str(cmd),
        deps=deps,
        params={str(f): dict(v) for f, v in (params or {}).items() if isinstance(v, dict)},
        outs=outs,
    )


def import_dvc_pipeline(
    parts: PipelineParts, converted: ConvertedPipeline, *, dry_run: bool
) -> PipelineImport:
    """Write ``strata.yaml`` and ``strata.lock``; a rerun that would write the same
    ``strata.yaml`` leaves both as they are (the lock may have moved on since)."""
    result = PipelineImport(converted)
    root = parts.root
    target = root / PIPELINE_FILE
    _check_target(root, converted.text)
    if target.is_file():
        return result
    lock_data = (root / DVC_LOCK).read_bytes() if (root / DVC_LOCK).is_file() else None
    lock_doc = load_data(DVC_LOCK, lock_data) if lock_data is not None else {}
    locked = (lock_doc or {}).get("stages") or {}
    current = CurrentState(parts)
    states = {
        name: _state(stage, locked[name], current)
        for name, stage in converted.pipeline.stages.items()
        if isinstance(locked.get(name), dict)
    }
    result.locked = sorted(states)
    if dry_run:
        return result
    Lockfile(root).write(states)  # the lock first: a strata.yaml never appears without it
    atomic_write(target, converted.text.encode("utf-8"))
    result.written = [PIPELINE_FILE, LOCK_FILE]
    return result
