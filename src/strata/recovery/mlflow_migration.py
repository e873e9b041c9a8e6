"""``strata migrate mlflow``: an MLflow registry's models, versions, stages, aliases, tags and
the runs behind them, brought into Strata's registry and run store.

    result = migrate_mlflow(source, Targets(ws.models, ws.tracking, exact, scratch))

Idempotent: each imported run and version carries the MLflow id it came from (a tag), so a
rerun — after new versions, or after an interrupted migration — adds only what is missing and
moves only the stages and aliases that differ. Each version registers in one transaction
with its files stored first; a version whose files are gone is named and the rest goes on.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from strata.errors import (
    ExperimentNotFoundError,
    ModelNotFoundError,
    ObjectMissingError,
    RemoteError,
    StrataError,
)
from strata.lineage.mlflow_datasets import dataset_ref
from strata.lineage.tracking_records import ForeignRun, TrackedStatus
from strata.parallel import check_cancelled
from strata.recovery.mlflow_source import MlflowSource, SourceModel, SourceRun, SourceVersion

if TYPE_CHECKING:
    from strata.lineage.tracking import Tracking
    from strata.models import Registry
    from strata.models.records import ModelVersion

RUN_TAG = "mlflow.migrated.run_id"  # on a Strata run: the MLflow run it was imported from
VERSION_TAG = "mlflow.migrated.version"  # on a Strata version: MLflow's version number
DATA_KINDS = ("table:", "file:")  # a run's inputs that are a version's training data
STATUSES: tuple[TrackedStatus, ...] = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")


@dataclass(frozen=True)
class Step:
    """One change the migration makes (or, in a dry run, would make)."""

    action: str  # model, run, version, stage, alias
    target: str
    detail: str = ""


@dataclass
class MigrationResult:
    source: str
    dry_run: bool
    steps: list[Step] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0
    """Versions found migrated already (their stage and aliases brought up to date)."""

    def to_dict(self) -> dict[str, object]:
        counts: dict[str, int] = {}
        for step in self.steps:
            counts[step.action] = counts.get(step.action, 0) + 1
        return {
            "source": self.source, "dry_run": self.dry_run, "counts": counts,
            "unchanged_versions": self.unchanged, "steps": [asdict(s) for s in self.steps],
            "failed": [{"target": t, "error": e} for t, e in self.failed],
        }  # fmt: skip


@dataclass(frozen=True)
class Targets:
    """Where the migration writes: the registry, the run store, and a scratch folder."""

    registry: Registry
    tracking: Tracking
    exact: Callable[[str], str]
    """A ref made exact (``table:x@latest`` → ``table:x@47``); raises for an unknown one."""
    scratch: Path


def stage_note(url: str) -> str:
    return (
        f"migrated from MLflow at {url}; MLflow keeps only a version's current stage, "
        "so the stages it held before are not known"
    )


def migrate_mlflow(
    source: MlflowSource,
    targets: Targets,
    *,
    models: Sequence[str] = (),
    dry_run: bool = False,
    progress: Callable[[Step], None] = lambda step: None,
) -> MigrationResult:
    """Bring the registered ``models`` (all when empty) of ``source`` into ``targets``."""
    result = MigrationResult(source.name, dry_run)

    def did(step: Step) -> None:
        result.steps.append(step)
        progress(step)

    for name in models or source.model_names():
        _Model(source, targets, source.model(name), dry_run, did, result).migrate()
    return result


class _Model:
    def __init__(
        self,
        source: MlflowSource,
        targets: Targets,
        model: SourceModel,
        dry_run: bool,
        did: Callable[[Step], None],
        result: MigrationResult,
    ) -> None:
        self.source, self.targets, self.model = source, targets, model
        self.dry_run, self.did, self.result = dry_run, did, result
        self.ref = f"model:{model.name}"

    def migrate(self) -> None:
        registry = self.targets.registry
        try:
            existing = registry.versions(self.model.name)
        except ModelNotFoundError:
            existing = []
            self.did(Step("model", self.ref, f"{len(self.model.versions)} versions"))
            if not self.dry_run:
                registry.create_model(self.model.name, description=self.model.description or None)
                if self.model.tags:
                    registry.tag_model(self.model.name, self.model.tags)
        done: dict[int, ModelVersion | None] = {
            int(v.tags[VERSION_TAG]): v for v in existing if VERSION_TAG in v.tags
        }
        for version in self.model.versions:
            check_cancelled()  # Ctrl-C: between versions, each landed whole or not at all
            there = done.get(version.number)
            if version.number not in done:
                try:
                    there = done[version.number] = self._add(version)
                except ObjectMissingError as exc:
                    self.result.failed.append((f"{self.ref}@{version.number}", str(exc)))
                    continue
            else:
                self.result.unchanged += 1
            self._set_stage(there, version)
        self._set_aliases(done)

    def _add(self, version: SourceVersion) -> ModelVersion | None:
        """The version's run, then its files and registration; None in a dry run."""
        files = self.source.files(self.model.name, version)
        size = sum(s for _, s in files)
        run_ref = self._run(version.run_id) if version.run_id else None
        number = f"{self.ref}@{version.number}"
        self.did(Step("version", number, f"{len(files)} files, {size} bytes"))
        if self.dry_run:
            return None
        folder = self.targets.scratch / uuid.uuid4().hex / _folder_name(version.source)
        try:
            for rel, file_size in files:
                check_cancelled()
                self.source.download(self.model.name, version, rel, file_size, folder)
            data = [] if run_ref is None else self._data(run_ref)
            tags = {
                **version.tags, VERSION_TAG: str(version.number), "mlflow.source": version.source,
                "mlflow.created_ms": str(version.created_ms),
            }  # fmt: skip
            if version.user:
                tags["mlflow.user"] = version.user
            registry = self.targets.registry
            acting = registry.acting_as(version.user) if version.user else registry
            return acting.register(
                self.model.name, folder, description=version.description or None, tags=tags,
                run=run_ref, data=data, allow_duplicate=True,
            )  # fmt: skip
        finally:
            shutil.rmtree(folder.parent, ignore_errors=True)

    def _data(self, run_ref: str) -> list[str]:
        record = self.targets.tracking.tracked_run(run_ref.removeprefix("run:")).run
        return [r for r in record.inputs if r.startswith(DATA_KINDS)]

    def _run(self, run_id: str) -> str | None:
        """The Strata run imported from MLflow run ``run_id`` (imported now if need be)."""
        tracking = self.targets.tracking
        try:
            found = self.source.run(run_id)
        except RemoteError as exc:  # deleted from MLflow since: the version comes without it
            self.did(Step("missing-run", f"mlflow run {run_id}", str(exc)))
            return None
        try:
            experiment = tracking.experiment_named(found.experiment)
        except ExperimentNotFoundError:
            if self.dry_run:
                self.did(Step("run", f"mlflow run {run_id}", f"into experiment {found.experiment}"))
                return None
            experiment = tracking.create_experiment(found.experiment)
        there = tracking.tagged_run(experiment.id, RUN_TAG, run_id)
        if there is not None:
            return there.run.ref
        self.did(Step("run", f"mlflow run {run_id}", f"{found.name}, {len(found.history)} points"))
        if self.dry_run:
            return None
        return tracking.import_run(experiment.id, self._foreign(found)).run.ref

    def _foreign(self, found: SourceRun) -> ForeignRun:
        inputs = []
        for name, digest, text in found.datasets:
            ref = dataset_ref(name, digest, text)
            try:
                inputs.append(self.targets.exact(ref))
            except StrataError:  # names a table or file this workspace lacks
                inputs.append(self.targets.exact(dataset_ref(name, digest, "")))
        status: TrackedStatus = next((s for s in STATUSES if s == found.status), "FINISHED")
        return ForeignRun(
            name=found.name, user=found.user or "mlflow", status=status, start_ms=found.start_ms,
            end_ms=found.end_ms, params=found.params,
            tags={**found.tags, RUN_TAG: found.run_id}, history=found.history,
            inputs=tuple(dict.fromkeys(inputs)),
        )  # fmt: skip

    def _set_stage(self, there: ModelVersion | None, version: SourceVersion) -> None:
        stage = version.stage.lower()
        current = "none" if there is None else there.stage
        if stage == current:
            return
        target = f"{self.ref}@{version.number}" if there is None else there.ref
        self.did(Step("stage", target, f"{current} -> {stage}"))
        if there is not None and not self.dry_run:
            self.targets.registry.promote(
                there.ref, stage, reason=stage_note(self.source.name), keep_existing=True,
                force=True,
            )  # fmt: skip

    def _set_aliases(self, done: dict[int, ModelVersion | None]) -> None:
        registry = self.targets.registry
        current = self._current_aliases()
        wanted = {alias for version in self.model.versions for alias in version.aliases}
        migrated = {v.number for v in done.values() if v is not None}
        for alias, number in sorted(current.items()):
            if alias not in wanted and number in migrated:  # removed in MLflow since
                self.did(Step("alias", f"{self.ref}@{number}", f"{alias} removed"))
                if not self.dry_run:
                    registry.remove_alias(self.model.name, alias)
        for version in self.model.versions:
            there = done.get(version.number)
            for alias in version.aliases:
                if there is not None and current.get(alias) == there.number:
                    continue
                target = f"{self.ref}@{version.number}" if there is None else there.ref
                self.did(Step("alias", target, alias))
                if there is not None and not self.dry_run:
                    registry.set_alias(there.ref, alias)

    def _current_aliases(self) -> dict[str, int]:
        try:
            versions = self.targets.registry.versions(self.model.name)
        except ModelNotFoundError:
            return {}
        return {alias: v.number for v in versions for alias in v.aliases}


def _folder_name(source: str) -> str:
    name = source.rstrip("/").rsplit("/", 1)[-1]
    return name if name and name not in (".", "..") else "model"
