"""``ws.pipelines``: ``strata.yaml`` stages run when their inputs changed, and metrics, params
and plots compared across git revisions and model versions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from strata.errors import PipelineError, UserInputError
from strata.pipelines.repro import Announce, ReproResult, load_pipeline, quiet, reproduce

if TYPE_CHECKING:
    from strata.pipelines.compare import DiffRow, Revisions, Values
    from strata.pipelines.dvc_import import ConvertedPipeline, PipelineImport
    from strata.pipelines.parts import PipelineParts
    from strata.pipelines.plots import Plot
    from strata.pipelines.spec import Pipeline, PlotSpec


class Pipelines:
    def __init__(self, parts: PipelineParts) -> None:
        self._parts = parts

    def load(self) -> Pipeline:
        """The workspace's ``strata.yaml``; PipelineFileError when there is none."""
        return load_pipeline(self._parts.root)

    def repro(
        self,
        targets: Sequence[str] = (),
        *,
        force: bool = False,
        dry_run: bool = False,
        announce: Announce = quiet,
        stage_output: IO[str] | int | None = None,
    ) -> ReproResult:
        """Run the stages whose inputs changed (``targets`` and what they depend on), each as a
        recorded run."""
        return reproduce(
            self._parts,
            targets,
            force=force,
            dry_run=dry_run,
            announce=announce,
            stage_output=stage_output,
        )

    def convert_dvc(self) -> ConvertedPipeline | None:
        """``strata.yaml`` for the workspace's ``dvc.yaml`` (None when there is none),
        checked; PipelineFileError naming what Strata cannot express. Writes nothing."""
        from strata.pipelines.dvc_import import DVC_PIPELINE, convert_pipeline

        path = self._parts.root / DVC_PIPELINE
        if not path.is_file():
            return None
        return convert_pipeline(self._parts.root, path.read_text(encoding="utf-8"))

    def import_dvc(self, converted: ConvertedPipeline, *, dry_run: bool = False) -> PipelineImport:
        """Write ``strata.yaml`` and a ``strata.lock`` from ``dvc.lock``, so ``strata repro``
        runs only what ``dvc repro`` would."""
        from strata.pipelines.dvc_import import import_dvc_pipeline

        return import_dvc_pipeline(self._parts, converted, dry_run=dry_run)

    def _revisions(self) -> Revisions:
        from strata.pipelines.compare import Revisions

        return Revisions(self._parts.root, self._parts.git)

    def metrics_show(self, revisions: Sequence[str | None] = (None,)) -> dict[str, Values]:
        """Revision label (``workspace`` for now) → metrics file → metric → value."""
        from strata.pipelines.compare import label

        source = self._revisions()
        return {label(rev): source.metrics(rev) for rev in revisions}

    def metrics_diff(
        self, a: str | None = None, b: str | None = None, *, everything: bool = False
    ) -> list[DiffRow]:
        """From ``a`` (default HEAD) to ``b`` (default the workspace); two ``model:`` refs
        compare the metrics registered with those model versions."""
        from strata.pipelines.compare import diff

        if (a or "").startswith("model:") or (b or "").startswith("model:"):
            if not (a and b and a.startswith("model:") and b.startswith("model:")):
                raise UserInputError(
                    "compare two model versions, or two git revisions, not one of each",
                    hint="e.g. strata metrics diff model:clf@3 model:clf@4",
                )
            old, new = self._parts.model(a), self._parts.model(b)
            path = old.name if old.name == new.name else f"{old.name} vs {new.name}"
            return diff({path: dict(old.metrics)}, {path: dict(new.metrics)}, everything=everything)
        source = self._revisions()
        return diff(source.metrics(a or "HEAD"), source.metrics(b), everything=everything)

    def params_show(self, revisions: Sequence[str | None] = (None,)) -> dict[str, Values]:
        from strata.pipelines.compare import label

        source = self._revisions()
        return {label(rev): source.params(rev) for rev in revisions}

    def params_diff(
        self, a: str | None = None, b: str | None = None, *, everything: bool = False
    ) -> list[DiffRow]:
        """Params from ``a`` (default HEAD) to ``b`` (default the workspace)."""
        from strata.pipelines.compare import diff

        source = self._revisions()
        return diff(source.params(a or "HEAD"), source.params(b), everything=everything)

    def plots(
        self, revisions: Sequence[str | None] = (None,), paths: Sequence[str] = ()
    ) -> list[Plot]:
        """Each plots file with a series per revision where it exists."""
        from strata.pipelines.compare import label
        from strata.pipelines.plots import build

        source = self._revisions()
        wanted = tuple(self._parts.files.relpaths(list(paths)))
        found: dict[str, tuple[PlotSpec, dict[str, bytes]]] = {}
        for rev in revisions:
            for path, (spec, data) in source.plots(rev, wanted).items():
                found.setdefault(path, (spec, {}))[1][label(rev)] = data
        if not found:
            raise PipelineError(
                "no plots found" + (f" at {', '.join(wanted)}" if wanted else ""),
                hint="name plots files in a stage's `plots`, or pass their paths",
            )
        return [build(path, spec, data) for path, (spec, data) in found.items()]
