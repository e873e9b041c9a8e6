"""What a pipeline run works with, handed in by the workspace."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from strata.files.service import Files
    from strata.lineage import Run
    from strata.models.records import ModelVersion
    from strata.objects import ObjectStore
    from strata.scm import Git


class StartRun(Protocol):
    """``ws.run``: records a run; what Strata reads and writes inside becomes its lineage."""

    def __call__(
        self,
        job: str,
        *,
        params: Mapping[str, object] | None = None,
        command: Sequence[str] | None = None,
        inputs: Sequence[str] = (),
        outputs: Sequence[str] = (),
    ) -> AbstractContextManager[Run]: ...


@dataclass(frozen=True)
class PipelineParts:
    root: Path
    cache_dir: Path
    files: Files
    store: ObjectStore
    git: Git | None
    run: StartRun
    exact: Callable[[str], str]  # a table or model ref → its exact version now
    model: Callable[[str], ModelVersion]  # a model ref → the version, with its metrics
