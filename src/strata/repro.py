"""``strata repro``: run the stages of ``strata.yaml`` whose inputs changed, in order.

Each stage is checked right before its turn (an upstream stage may just have changed its
inputs): its command, the content hash of every path it depends on (from the state cache, so
unchanged files are not re-read), the exact version of every table or model ref, and its param
values, against its ``strata.lock`` entry. A stage that must run

1. gets its outputs back from the run cache when it ran with exactly these inputs before, or
2. runs inside ``ws.run(...)`` as a recorded run (its exact inputs; a Strata-using command
   records into the same run through ``STRATA_RUN_ID``), its outputs are tracked like
   ``strata add``, and its lock entry is written at once.

A failing or interrupted stage stops the repro; its partial outputs are not tracked and its
lock entry is left as it was, so the stages that finished keep theirs and the next repro
reruns it.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from strata.config import STRATA_DIR
from strata.errors import (
    DependencyMissingError,
    ObjectCorruptError,
    ObjectMissingError,
    PipelineError,
    PipelineFileError,
    RegistryError,
    StageFailedError,
    TableError,
    UserInputError,
)
from strata.parallel import check_cancelled
from strata.paths import atomic_write
from strata.pipelines import (
    PIPELINE_FILE,
    Lockfile,
    OutState,
    Pipeline,
    Reader,
    RunCache,
    Stage,
    StageGraph,
    StageState,
    change_reasons,
    is_ref,
    load_data,
    lookup,
    parse_pipeline,
    run_key,
)
from strata.pipelines.command import execute, exit_status
from strata.pipelines.compare import read_now

if TYPE_CHECKING:
    from strata.lineage import Run
    from strata.pipelines.compare import DiffRow, Revisions, Values
    from strata.pipelines.plots import Plot
    from strata.pipelines.spec import PlotSpec
    from strata.workspace import Workspace

Action = Literal["ran", "restored", "unchanged", "frozen", "would run"]
Announce = Callable[[str], None]


@dataclass(frozen=True)
class StageOutcome:
    name: str
    action: Action
    reasons: tuple[str, ...] = ()
    run: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.name,
            "action": self.action,
            "reasons": list(self.reasons),
            "run": self.run,
        }


@dataclass
class ReproResult:
    stages: list[StageOutcome] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"stages": [s.to_dict() for s in self.stages]}


def _quiet(_: str) -> None:
    return None


def load_pipeline(ws: Workspace) -> Pipeline:
    """The workspace's ``strata.yaml``; PipelineFileError when there is none."""
    path = ws.root / PIPELINE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineFileError(
            f"no {PIPELINE_FILE} in {ws.root}",
            hint="add a stage with `strata stage add NAME --cmd ...`",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineFileError(f"cannot read {PIPELINE_FILE}: {exc}") from None
    return parse_pipeline(text, read_workspace_file(ws))


def read_workspace_file(ws: Workspace) -> Reader:
    """Reads workspace-relative files as they are now (None when absent)."""
    return lambda relpath: read_now(ws.root, relpath)


def reproduce(
    ws: Workspace,
    targets: Sequence[str] = (),
    *,
    force: bool = False,
    dry_run: bool = False,
    announce: Announce = _quiet,
    stage_output: IO[str] | int | None = None,
) -> ReproResult:
    """Bring ``targets`` (default: every stage) and what they depend on up to date."""
    graph = StageGraph.build(load_pipeline(ws))
    order = graph.order(targets)
    if dry_run:
        return _walk(ws, graph, order, force=force, dry_run=True, announce=announce, output=None)
    with _one_repro_at_a_time(ws):
        return _walk(
            ws, graph, order, force=force, dry_run=False, announce=announce, output=stage_output
        )


@contextmanager
def _one_repro_at_a_time(ws: Workspace) -> Iterator[None]:
    """Two repros in one workspace would run the same stages into the same outputs. The lock
    is on the ``.strata`` folder itself, so taking it writes nothing."""
    import fcntl

    folder = os.open(ws.root / STRATA_DIR, os.O_RDONLY)
    try:
        try:
            fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PipelineError(
                "another `strata repro` is running in this workspace",
                hint="wait for it to finish, then run again",
            ) from None
        yield
    finally:
        os.close(folder)  # releases the lock


def _walk(
    ws: Workspace,
    graph: StageGraph,
    order: Sequence[Stage],
    *,
    force: bool,
    dry_run: bool,
    announce: Announce,
    output: IO[str] | int | None,
) -> ReproResult:
    runner = _Runner(ws, announce, output)
    result = ReproResult()
    pending: set[str] = set()  # stages that would run (dry run)
    for stage in order:
        check_cancelled()
        if stage.frozen:
            result.stages.append(StageOutcome(stage.name, "frozen"))
            continue
        upstream = [u for u in graph.upstream[stage.name] if u in pending]
        if dry_run and upstream:
            pending.add(stage.name)
            why = (f"upstream stage {u} will run" for u in upstream)
            result.stages.append(StageOutcome(stage.name, "would run", tuple(why)))
            continue
        outcome = runner.bring_up_to_date(stage, force=force, dry_run=dry_run)
        if outcome.action == "would run":
            pending.add(stage.name)
        result.stages.append(outcome)
    return result


class _Runner:
    def __init__(
        self,
        ws: Workspace,
        announce: Announce,
        stage_output: IO[str] | int | None,
    ) -> None:
        self.ws = ws
        self.announce = announce
        self.stage_output = stage_output
        self.lock = Lockfile(ws.root)
        self.locked = self.lock.read()
        self.cache = RunCache(ws.config.cache_dir)
        self.state = _CurrentState(ws)

    def bring_up_to_date(self, stage: Stage, *, force: bool, dry_run: bool) -> StageOutcome:
        now = self.state.stage_state(stage)
        outs_now = {o: self.state.out_state(o) for o in stage.written}
        why = change_reasons(now, self.locked.get(stage.name), outs_now)
        if force:
            why = ["forced", *why]
        if not why:
            return StageOutcome(stage.name, "unchanged")
        if dry_run:
            return StageOutcome(stage.name, "would run", tuple(why))
        key = run_key(now)
        restored = None if force else self._restore(stage, key)
        if restored is not None:
            outs, run = restored
            self._finish(stage, StageState(now.cmd, now.deps, now.params, outs, run), key=None)
            self.announce(f"Restored stage {stage.name} from the run cache ({', '.join(why)})")
            return StageOutcome(stage.name, "restored", tuple(why), run)
        self.announce(f"Running stage {stage.name} ({', '.join(why)}):\n> {stage.cmd}")
        outs, run = self._run(stage, now)
        self._finish(stage, StageState(now.cmd, now.deps, now.params, outs, run), key=key)
        return StageOutcome(stage.name, "ran", tuple(why), run)

    def _finish(self, stage: Stage, state: StageState, *, key: str | None) -> None:
        self.lock.record(stage.name, state)
        self.locked[stage.name] = state
        if key is not None and _cacheable(stage):
            self.cache.put(key, state.outs, state.run)
        self.state.forget()

    # -- running --------------------------------------------------------------------------
    def _run(self, stage: Stage, now: StageState) -> tuple[dict[str, OutState], str]:
        from strata.lineage import RUN_ID_ENV

        ws = self.ws
        _remove_outputs(ws.root, stage)
        params = {k: v for values in now.params.values() for k, v in values.items()}
        cwd = ws.root / stage.wdir
        with ws.run(
            stage.name,
            params=params,
            command=["sh", "-c", stage.cmd],
            inputs=self.state.lineage_inputs(now),
        ) as run:
            env = {**os.environ, RUN_ID_ENV: run.id}
            code = execute(stage.cmd, cwd, env, self.stage_output)
            run.set_exit_code(code)
            if code == 0:
                outs = self._track_outputs(stage, run)
        if code != 0:
            raise StageFailedError(
                f"stage {stage.name} failed: its command exited with code {exit_status(code)}"
                f" (run:{run.id})"
            )
        return outs, run.id

    def _track_outputs(self, stage: Stage, run: Run) -> dict[str, OutState]:
        ws = self.ws
        absent = [o for o in stage.written if not is_ref(o) and not (ws.root / o).exists()]
        if absent:
            raise StageFailedError(
                f"stage {stage.name} did not write {', '.join(absent)}",
                hint="make its command write every output named in strata.yaml",
            )
        outs: dict[str, OutState] = {}
        if stage.path_outs:
            for added in ws.add([ws.root / o for o in stage.path_outs]):
                outs[added.path] = OutState(added.hash, added.kind, added.size, added.files)
        for path in (*stage.metrics, *(p.path for p in stage.plots)):
            data = (ws.root / path).read_bytes()
            outs[path] = OutState(ws.store.add_bytes(data, what=path), "metric", len(data), 1)
        for ref in stage.ref_outs:
            written = self.state.ref_version(ref)
            if written is None:
                raise StageFailedError(f"stage {stage.name} did not write {ref}")
            run.output(written)
            outs[ref] = OutState(written, ref.partition(":")[0])
        return outs

    # -- the run cache --------------------------------------------------------------------
    def _restore(self, stage: Stage, key: str) -> tuple[dict[str, OutState], str | None] | None:
        if not _cacheable(stage):
            return None
        found = self.cache.get(key)
        if found is None or set(found[0]) != set(stage.written):
            return None
        outs, run = found
        from strata.files import POINTER_SUFFIX, Pointer, Tracked, checkout

        ws = self.ws
        try:
            contents = {
                p: ws.store.read_bytes(o.hash, what=p)
                for p, o in outs.items()
                if o.kind == "metric"
            }
            targets = [
                Tracked(
                    p + POINTER_SUFFIX,
                    Pointer(posixpath.basename(p), o.kind, o.hash, o.size, o.files),  # type: ignore[arg-type]
                )
                for p, o in outs.items()
                if o.kind in ("file", "directory")
            ]
            _remove_outputs(ws.root, stage)
            checkout(ws.files, targets, force=True, write_pointers=True)
        except (ObjectMissingError, ObjectCorruptError):
            return None  # garbage-collected since: run the stage instead
        for path, data in contents.items():
            (ws.root / path).parent.mkdir(parents=True, exist_ok=True)
            atomic_write(ws.root / path, data)
        return outs, run


class _CurrentState:
    """Dependency hashes, ref versions and param values as they are now, each computed once
    until a stage runs (``forget``)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._hashes: dict[str, tuple[str, str] | None] = {}
        self._params: dict[str, object] = {}

    def forget(self) -> None:
        self._hashes.clear()
        self._params.clear()

    def path_hash(self, relpath: str) -> tuple[str, str] | None:
        """(content hash, kind) of a workspace path now, or None when it does not exist."""
        if relpath not in self._hashes:
            from strata.files.scan import folder_hash, scan_file

            path = self.ws.root / relpath
            if path.is_dir():
                self._hashes[relpath] = (folder_hash(self.ws.files, path)[0], "directory")
            elif path.is_file():
                self._hashes[relpath] = (scan_file(self.ws.files, path).hash, "file")
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
            table, version = self.ws.tables.version_of(ref if "@" in ref else f"{ref}@latest")
            return f"table:{table.name}@{version}"
        return self.ws.models.resolve(ref if "@" in ref else f"{ref}@latest").ref

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
            data = read_now(self.ws.root, file)
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
            elif any(v.hash == version for v in self.ws.db.file_versions(dep)):
                found.append(f"file:{dep}@{version[:12]}")
        return found


def _cacheable(stage: Stage) -> bool:
    """Only files can come back from the cache: a stage writing a table or model, or nothing
    at all (run for its effects), always runs."""
    return bool(stage.written) and not stage.ref_outs


def _remove_outputs(root: Path, stage: Stage) -> None:
    """Outputs go before a stage runs: a command never writes into a cached (linked) file."""
    import shutil

    for out in stage.written:
        if is_ref(out):
            continue
        path = root / out
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        except OSError as exc:
            raise PipelineError(
                f"cannot remove {out} before running stage {stage.name}: {exc.strerror}"
            ) from exc


# -- metrics, params and plots across revisions and model versions ---------------------------
def _revisions(ws: Workspace) -> Revisions:
    from strata.pipelines.compare import Revisions

    return Revisions(ws.root, ws.git)


def metrics_show(ws: Workspace, revisions: Sequence[str | None] = (None,)) -> dict[str, Values]:
    """Revision label (``workspace`` for now) → metrics file → metric → value."""
    from strata.pipelines.compare import label

    source = _revisions(ws)
    return {label(rev): source.metrics(rev) for rev in revisions}


def metrics_diff(
    ws: Workspace, a: str | None = None, b: str | None = None, *, everything: bool = False
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
        old, new = ws.models.show(a), ws.models.show(b)
        path = old.name if old.name == new.name else f"{old.name} vs {new.name}"
        return diff({path: dict(old.metrics)}, {path: dict(new.metrics)}, everything=everything)
    source = _revisions(ws)
    return diff(source.metrics(a or "HEAD"), source.metrics(b), everything=everything)


def params_show(ws: Workspace, revisions: Sequence[str | None] = (None,)) -> dict[str, Values]:
    from strata.pipelines.compare import label

    source = _revisions(ws)
    return {label(rev): source.params(rev) for rev in revisions}


def params_diff(
    ws: Workspace, a: str | None = None, b: str | None = None, *, everything: bool = False
) -> list[DiffRow]:
    """Params from ``a`` (default HEAD) to ``b`` (default the workspace)."""
    from strata.pipelines.compare import diff

    source = _revisions(ws)
    return diff(source.params(a or "HEAD"), source.params(b), everything=everything)


def plots(
    ws: Workspace, revisions: Sequence[str | None] = (None,), paths: Sequence[str] = ()
) -> list[Plot]:
    """Each plots file with a series per revision where it exists."""
    from strata.pipelines.compare import label
    from strata.pipelines.plots import build

    source = _revisions(ws)
    wanted = tuple(ws.relpaths(list(paths)))
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
