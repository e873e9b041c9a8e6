"""``strata.lock``: what each stage last ran with and produced, exactly.

    schema: 1
    stages:
      featurize:
        cmd: python featurize.py
        deps:
          featurize.py: 5d41402abc4b2a76...              # content hash
          table:deliveries@latest: table:deliveries@3    # the exact version read
        params:
          params.yaml: {featurize.window: 7}
        outs:
          data/features.csv: {hash: 9e107d9d..., kind: file, size: 1024, files: 1}
        run: 01JD5Z3W7Q8R9S0T1V2W3X4Y5Z

Written after each finished stage, atomically (temp file, fsync, rename), so an interrupted
``strata repro`` leaves the entries of the stages that finished and the old entries of the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strata.errors import PipelineFileError
from strata.paths import atomic_write
from strata.pipelines.spec import LOCK_FILE

SCHEMA = 1


@dataclass(frozen=True)
class OutState:
    """An output as produced: a tracked path (content hash), a metrics or plots file (hash,
    kind ``metric``), or a table or model (``hash`` is the exact ref written)."""

    hash: str
    kind: str
    size: int = 0
    files: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"hash": self.hash, "kind": self.kind, "size": self.size, "files": self.files}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutState:
        return cls(str(data["hash"]), str(data["kind"]), int(data["size"]), int(data["files"]))


@dataclass(frozen=True)
class StageState:
    """What a stage runs with (command, dependency versions, param values) and produced."""

    cmd: str
    deps: dict[str, str]
    params: dict[str, dict[str, Any]]
    outs: dict[str, OutState] = field(default_factory=dict)
    run: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "cmd": self.cmd,
            "deps": dict(self.deps),
            "params": {f: dict(v) for f, v in self.params.items()},
            "outs": {p: o.to_dict() for p, o in self.outs.items()},
            "run": self.run,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageState:
        return cls(
            cmd=str(data["cmd"]),
            deps={str(k): str(v) for k, v in dict(data.get("deps") or {}).items()},
            params={str(f): dict(v) for f, v in dict(data.get("params") or {}).items()},
            outs={str(p): OutState.from_dict(o) for p, o in dict(data.get("outs") or {}).items()},
            run=None if data.get("run") is None else str(data["run"]),
        )


class Lockfile:
    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_FILE

    def read(self) -> dict[str, StageState]:
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise PipelineFileError(f"cannot read {LOCK_FILE}: {exc.strerror}") from exc
        return parse_lock(text)

    def record(self, name: str, state: StageState) -> None:
        """Replace one stage's entry, keeping every other as it is on disk now."""
        stages = self.read()
        stages[name] = state
        self.write(stages)

    def write(self, stages: Mapping[str, StageState]) -> None:
        import yaml

        doc = {"schema": SCHEMA, "stages": {n: s.to_dict() for n, s in sorted(stages.items())}}
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(doc, Dumper=dumper, sort_keys=False, default_flow_style=False)
        atomic_write(self.path, text.encode("utf-8"))


def parse_lock(data: bytes) -> dict[str, StageState]:
    from strata.pipelines.datafiles import load_data

    doc = load_data(LOCK_FILE, data)
    hint = f"restore {LOCK_FILE} from git, or delete it to rerun every stage"
    if doc is None:
        return {}
    if not isinstance(doc, dict) or not isinstance(doc.get("stages", {}), dict):
        raise PipelineFileError(f"{LOCK_FILE} is not a Strata lock file", hint=hint)
    if doc.get("schema") != SCHEMA:
        raise PipelineFileError(
            f"{LOCK_FILE} has schema {doc.get('schema')!r}; this Strata reads {SCHEMA}",
            hint="upgrade Strata, or delete it to rerun every stage",
        )
    try:
        return {str(n): StageState.from_dict(s) for n, s in (doc.get("stages") or {}).items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PipelineFileError(f"{LOCK_FILE} has a malformed entry ({exc})", hint=hint) from None
