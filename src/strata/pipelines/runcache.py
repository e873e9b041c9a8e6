"""The run cache: a stage that already ran with this exact command, dependency versions and
params gets its outputs back from the object cache instead of running again.

Entries are small JSON files beside the objects (``CACHE/runs/ab/abcdef....json``), keyed by
a digest of the stage's inputs; the outputs' contents are ordinary cached objects. An entry
whose objects were garbage-collected is simply not used.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from strata.paths import atomic_write
from strata.pipelines.lock import OutState, StageState

RUNS_DIR = "runs"


def run_key(state: StageState) -> str:
    """The digest of what decides a stage's outputs: command, dependency versions, params."""
    doc = {"cmd": state.cmd, "deps": state.deps, "params": state.params}
    text = json.dumps(doc, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class RunCache:
    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / RUNS_DIR

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key[2:]}.json"

    def get(self, key: str) -> tuple[dict[str, OutState], str | None] | None:
        """The outputs (and producing run) recorded for ``key``, or None."""
        try:
            doc = json.loads(self._path(key).read_bytes())
            outs = {str(p): OutState.from_dict(o) for p, o in doc["outs"].items()}
            run = doc.get("run")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # absent or damaged: the stage runs, which rewrites the entry
        return outs, None if run is None else str(run)

    def put(self, key: str, outs: dict[str, OutState], run: str | None) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"outs": {p: o.to_dict() for p, o in outs.items()}, "run": run}
        atomic_write(path, json.dumps(doc, sort_keys=True).encode("utf-8"))
