"""``strata stage add``: a stage written into ``strata.yaml``, the whole file checked first.

A new stage is appended to the ``stages`` block as text when that block is the file's last
one, so comments and layout elsewhere stay as the user wrote them; otherwise the file is
written anew. Either way the result is parsed and its graph checked before it replaces the
old file (atomically), so a stage that would make the pipeline invalid writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from strata.core import safe_yaml
from strata.errors import PipelineError, PipelineFileError
from strata.paths import atomic_write
from strata.pipelines.graph import StageGraph
from strata.pipelines.parse import Reader, parse_pipeline
from strata.pipelines.spec import PIPELINE_FILE, Stage


def stage_doc(
    *,
    cmd: str,
    deps: Sequence[str] = (),
    params: Sequence[str] = (),
    outs: Sequence[str] = (),
    metrics: Sequence[str] = (),
    plots: Sequence[str] = (),
    wdir: str | None = None,
    desc: str | None = None,
    frozen: bool = False,
) -> dict[str, Any]:
    doc: dict[str, Any] = {"cmd": cmd}
    if desc:
        doc["desc"] = desc
    if wdir and wdir != ".":
        doc["wdir"] = wdir
    for key, values in (
        ("deps", deps),
        ("params", params),
        ("outs", outs),
        ("metrics", metrics),
        ("plots", plots),
    ):
        if values:
            doc[key] = list(values)
    if frozen:
        doc["frozen"] = True
    return doc


def add_stage(root: Path, name: str, doc: dict[str, Any], read: Reader, *, force: bool) -> Stage:
    import yaml

    path = root / PIPELINE_FILE
    try:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineFileError(f"cannot read {PIPELINE_FILE}: {exc}") from None
    current = parse_pipeline(old, read)  # refuses a file that is not YAML or over a bound
    family = [s for s in current.stages if s == name or s.startswith(name + "@")]
    if family and not force:
        raise PipelineError(
            f"stage {name!r} already exists in {PIPELINE_FILE}",
            hint="pass --force to replace it, or pick another name",
        )
    new = _append(old, name, doc) if not family else None
    if new is None:
        data = safe_yaml.load(old) or {}
        data.setdefault("stages", {})[name] = doc
        new = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    pipeline = parse_pipeline(new, read)
    StageGraph.build(pipeline)  # refuses cycles and clashing outputs before writing
    atomic_write(path, new.encode("utf-8"))
    return pipeline.stages[name]


def _append(text: str, name: str, doc: dict[str, Any]) -> str | None:
    """``text`` with the stage added at the end of its block ``stages``, or None when the
    block is not the file's last (or not a block mapping)."""
    import yaml

    block = yaml.safe_dump({name: doc}, sort_keys=False, default_flow_style=False)
    if not text.strip():
        return "stages:\n" + "".join(f"  {line}" for line in block.splitlines(keepends=True))
    root = safe_yaml.compose(text)
    if not isinstance(root, yaml.MappingNode) or not root.value:
        return None
    last_key, last_value = root.value[-1]
    if last_key.value != "stages" or not isinstance(last_value, yaml.MappingNode):
        return None
    if last_value.flow_style or not last_value.value:
        return None
    indent = last_value.value[0][0].start_mark.column
    indented = "".join(" " * indent + line for line in block.splitlines(keepends=True))
    return text.rstrip("\n") + "\n" + indented
