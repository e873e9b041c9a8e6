"""What a stage's inputs are now: dependency hashes, exact ref versions and param values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strata.errors import DependencyMissingError, PipelineFileError, RegistryError, TableError
from strata.pipelines.compare import read_now
from strata.pipelines.datafiles import load_data, lookup
from strata.pipelines.lock import OutState, StageState
from strata.pipelines.spec import PIPELINE_FILE, Stage, is_ref

if TYPE_CHECKING:
    from strata.pipelines.parts import PipelineParts


class CurrentState:
    """Dependency hashes, ref versions and param values as they are now, each computed once
    until a stage runs (``forget``)."""

    def __init__(self, parts: PipelineParts) -> None:
        self.parts = parts
        self._hashes: dict[str, tuple[str, str] | None] = {}
        self._params: dict[str, object] = {}

    def forget(self) -> None:
        self._hashes.clear()
        self._params.clear()

    def path_hash(self, relpath: str) -> tuple[str, str] | None:
        """(content hash, kind) of a workspace path now, or None when it does not exist."""
        if relpath not in self._hashes:
            from strata.files.scan import folder_hash, scan_file

            path = self.parts.root / relpath
            if path.is_dir():
                self._hashes[relpath] = (
                    folder_hash(self.parts.files.context, path)[0],
                    "directory",
                )
            elif path.is_file():
                self._hashes[relpath] = (scan_file(self.parts.files.context, path).hash, "file")
            else:
                self._hashes[relpath] = None
        return self._hashes[relpath]

    def ref_version(self, ref: str) -> str | None:
        """The exact version a table or model ref names now; None when it names none."""
        try:
            return self._exact(ref)
        except (TableError, RegistryError):
            return None

    def _exact(self, ref: str) -> str:
        if ref.startswith("table:"):
            return self.parts.exact(ref if "@" in ref else f"{ref}@latest")
        return self.parts.exact(ref if "@" in ref else f"{ref}@latest")

    def out_state(self, out: str) -> OutState | None:
        if is_ref(out):
            exact = self.ref_version(out)
            return None if exact is None else OutState(exact, out.partition(":")[0])
        found = self.path_hash(out)
        return None if found is None else OutState(found[0], found[1])

    def stage_state(self, stage: Stage) -> StageState:
        deps: dict[str, str] = {}
        for dep in stage.deps:
            if is_ref(dep):
                try:
                    deps[dep] = self._exact(dep)
                except (TableError, RegistryError) as exc:
                    raise DependencyMissingError(
                        f"stage {stage.name}: dependency {dep} cannot be read: {exc.message}",
                        hint=exc.hint,
                    ) from None
                continue
            found = self.path_hash(dep)
            if found is None:
                raise DependencyMissingError(
                    f"stage {stage.name}: dependency {dep} does not exist",
                    hint=f"create {dep}, or add the stage that writes it to {PIPELINE_FILE}",
                )
            deps[dep] = found[0]
        params: dict[str, dict[str, Any]] = {}
        for param in stage.params:
            params.setdefault(param.file, {})[param.key] = self._param(stage, param.file, param.key)
        return StageState(stage.cmd, deps, params)

    def _param(self, stage: Stage, file: str, key: str) -> Any:
        if file not in self._params:
            data = read_now(self.parts.root, file)
            if data is None:
                raise PipelineFileError(
                    f"stage {stage.name}: params file {file} does not exist",
                    hint=f"create {file} with the key {key}",
                )
            self._params[file] = load_data(file, data)
        try:
            return lookup(self._params[file], key)
        except KeyError:
            raise PipelineFileError(
                f"stage {stage.name}: {file} has no param {key!r}",
                hint=f"add {key} to {file}, or remove it from the stage's params",
            ) from None

    def lineage_inputs(self, state: StageState) -> list[str]:
        """The dependencies lineage can name at an exact version: tables, models, and paths
        tracked at the version read (outputs of earlier stages, or ``strata add``-ed data)."""
        found: list[str] = []
        for dep, version in state.deps.items():
            if is_ref(dep):
                found.append(version)
            elif any(v.hash == version for v in self.parts.files.versions(self.parts.root / dep)):
                found.append(f"file:{dep}@{version[:12]}")
        return found
