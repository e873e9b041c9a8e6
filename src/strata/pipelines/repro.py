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
    ObjectCorruptError,
    ObjectMissingError,
    PipelineError,
    PipelineFileError,
    StageFailedError,
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
    parse_pipeline,
    run_key,
)
from strata.pipelines.command import execute, exit_status
from strata.pipelines.compare import read_now
from strata.pipelines.current import CurrentState

if TYPE_CHECKING:
    from strata.lineage import Run
    from strata.pipelines.parts import PipelineParts

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


def quiet(_: str) -> None:
    return None


def load_pipeline(root: Path) -> Pipeline:
    """The workspace's ``strata.yaml``; PipelineFileError when there is none."""
    path = root / PIPELINE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineFileError(
            f"no {PIPELINE_FILE} in {root}",
            hint="add a stage with `strata stage add NAME --cmd ...`",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineFileError(f"cannot read {PIPELINE_FILE}: {exc}") from None
    return parse_pipeline(text, read_workspace_file(root))


def read_workspace_file(root: Path) -> Reader:
    """Reads workspace-relative files as they are now (None when absent)."""
    return lambda relpath: read_now(root, relpath)


def reproduce(
    parts: PipelineParts,
    targets: Sequence[str] = (),
    *,
    force: bool = False,
    dry_run: bool = False,
    announce: Announce = quiet,
    stage_output: IO[str] | int | None = None,
) -> ReproResult:
    """Bring ``targets`` (default: every stage) and what they depend on up to date."""
    graph = StageGraph.build(load_pipeline(parts.root))
    order = graph.order(targets)
    if dry_run:
        return _walk(parts, graph, order, force=force, dry_run=True, announce=announce, output=None)
    with _one_repro_at_a_time(parts.root):
        return _walk(
            parts, graph, order, force=force, dry_run=False, announce=announce, output=stage_output
        )


@contextmanager
def _one_repro_at_a_time(root: Path) -> Iterator[None]:
    """Two repros in one workspace would run the same stages into the same outputs. The lock
    is on the ``.strata`` folder itself, so taking it writes nothing."""
    import fcntl

    folder = os.open(root / STRATA_DIR, os.O_RDONLY)
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
    parts: PipelineParts,
    graph: StageGraph,
    order: Sequence[Stage],
    *,
    force: bool,
    dry_run: bool,
    announce: Announce,
    output: IO[str] | int | None,
) -> ReproResult:
    runner = _Runner(parts, announce, output)
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
        parts: PipelineParts,
        announce: Announce,
        stage_output: IO[str] | int | None,
    ) -> None:
        self.parts = parts
        self.announce = announce
        self.stage_output = stage_output
        self.lock = Lockfile(parts.root)
        self.locked = self.lock.read()
        self.cache = RunCache(parts.cache_dir)
        self.state = CurrentState(parts)

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

        parts = self.parts
        _remove_outputs(parts.root, stage)
        params = {k: v for values in now.params.values() for k, v in values.items()}
        cwd = parts.root / stage.wdir
        with parts.run(
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
        parts = self.parts
        absent = [o for o in stage.written if not is_ref(o) and not (parts.root / o).exists()]
        if absent:
            raise StageFailedError(
                f"stage {stage.name} did not write {', '.join(absent)}",
                hint="make its command write every output named in strata.yaml",
            )
        outs: dict[str, OutState] = {}
        if stage.path_outs:
            for added in parts.files.add([parts.root / o for o in stage.path_outs]):
                outs[added.path] = OutState(added.hash, added.kind, added.size, added.files)
        for path in (*stage.metrics, *(p.path for p in stage.plots)):
            data = (parts.root / path).read_bytes()
            outs[path] = OutState(parts.store.add_bytes(data, what=path), "metric", len(data), 1)
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

        parts = self.parts
        try:
            contents = {
                p: parts.store.read_bytes(o.hash, what=p)
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
            _remove_outputs(parts.root, stage)
            checkout(parts.files.context, targets, force=True, write_pointers=True)
        except (ObjectMissingError, ObjectCorruptError):
            return None  # garbage-collected since: run the stage instead
        for path, data in contents.items():
            (parts.root / path).parent.mkdir(parents=True, exist_ok=True)
            atomic_write(parts.root / path, data)
        return outs, run


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
