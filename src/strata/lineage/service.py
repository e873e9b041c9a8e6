"""``Lineage``: runs, the graph of what they read and wrote, feature sets and deployments.

lineage = ws.lineage
with ws.run("train", params={"lr": 0.1}) as run:   # the workspace wraps start_run/finish_run
    run.input("table:deliveries@latest")           # stored as table:deliveries@47
lineage.provenance("model:delay-classifier@3")

``Lineage`` sits on top of the lineage package: the modules it calls take it as a
``LineageView`` or a ``RunRecorder`` (``strata.lineage.protocols``) and never import it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.errors import LineageError, RunNotFoundError, UserInputError
from strata.lineage import analysis, environment, store
from strata.lineage.columns import column_impact, split_column
from strata.lineage.compare import compare
from strata.lineage.describe import Describer, Describers, Materializer, Resolver
from strata.lineage.group_commit import EventWriter
from strata.lineage.ids import new_run_id
from strata.lineage.ingest import IngestResult, Planned, ingest, plan
from strata.lineage.named import NamedView
from strata.lineage.records import Deployment, FeatureSet, RunRecord
from strata.lineage.reproduce import Reproduction, reproduce
from strata.lineage.run_files import read_metrics, read_params
from strata.lineage.runs import RUN_ID_ENV, Run, checked_metrics, checked_params
from strata.refs import Latest, Ref, Revision, Version, format_ref, parse_ref

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from strata.lineage.analysis import Impact
    from strata.lineage.catalog import RowsWritten, SnapshotVersion
    from strata.lineage.graph import Direction, Graph
    from strata.lineage.openlineage import Emitter
    from strata.meta import MetadataDB
    from strata.objects import ObjectStore

Clock = Callable[[], datetime]
Archiver = Callable[[str, str], object]
"""Archives one model version with a reason, through the registry (its audit trail)."""
_HASH_PREFIX = 12
_HEX = frozenset("0123456789abcdef")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Lineage:
    def __init__(
        self,
        db: MetadataDB,
        root: Path,
        *,
        namespace: str = "strata",
        resolver: Resolver | None = None,
        describers: Sequence[Describer] = (),
        materializer: Materializer | None = None,
        emitter: Emitter | None = None,
        objects: ObjectStore | None = None,
        archiver: Archiver | None = None,
        rows_written: RowsWritten | None = None,
        snapshot_version: SnapshotVersion | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self.db = db
        self.root = root
        self.namespace = namespace
        self.resolver = resolver
        self.describer = Describers(describers)
        self.materializer = materializer
        self.emitter = emitter
        self.objects = objects
        self.archiver = archiver
        self.rows_written = rows_written
        self.snapshot_version = snapshot_version
        self.clock = clock
        self._events = EventWriter(self)
        self._open_runs: list[Run] = []  # started here and not yet finished, innermost last

    # -- refs at exact versions -------------------------------------------------------------
    def exact(self, text: str) -> str:
        """``text`` as the exact version it names now, canonical; LineageError when it names
        no exact version and nothing here can resolve it."""
        ref = parse_ref(text) if isinstance(text, str) else text
        found = self._own_exact(ref)
        if found is None and self.resolver is not None:
            resolved = self.resolver(ref)
            found = None if resolved is None else self._own_exact(resolved)
        if found is None:
            raise LineageError(
                f"cannot record {format_ref(ref)}: it names no exact version, and nothing in "
                "this workspace resolves it to one",
                hint=_EXACT_HINTS.get(ref.kind, "name the exact version"),
            )
        return found

    def _own_exact(self, ref: Ref) -> str | None:
        if ref.kind in ("table", "model") and isinstance(ref.selector, Version):
            return format_ref(ref)
        if ref.kind == "features":
            return self._feature_ref(ref)
        if ref.kind == "run" and ref.selector is None:
            self.run(format_ref(ref))
            return format_ref(ref)
        if ref.kind == "file" and isinstance(ref.selector, Revision):
            return self._file_ref(ref.name, ref.selector.text)
        if ref.kind == "dataset":  # as an OpenLineage event named it: nothing to resolve
            return format_ref(ref)
        return None

    def _feature_ref(self, ref: Ref) -> str | None:
        version = ref.selector.number if isinstance(ref.selector, Version) else None
        if version is None and not isinstance(ref.selector, Latest | None):
            return None
        with self.db.transaction("cannot read feature sets", write=False) as connection:
            found = store.feature_set(connection, ref.name, version=version)
        if found is None:
            raise LineageError(
                f"feature set {format_ref(ref)} does not exist",
                hint="register it with `strata features register NAME --features a,b`",
            )
        return found.ref

    def _file_ref(self, path: str, selector: str) -> str | None:
        """``file:PATH@HASH_PREFIX`` of a recorded version, or None (a git revision)."""
        if len(selector) < 4 or not set(selector) <= _HEX:
            return None
        hashes = {v.hash for v in self.db.file_versions(path) if v.hash.startswith(selector)}
        if len(hashes) > 1:
            raise UserInputError(f"hash prefix {selector!r} of {path} is ambiguous")
        if not hashes:
            return None
        return f"file:{path}@{hashes.pop()[:_HASH_PREFIX]}"

    # -- recording ----------------------------------------------------------------------------
    def record_edges(self, edges: Sequence[tuple[str, str, str]], *, run_id: str | None) -> None:
        with self.db.transaction("cannot record lineage", write=True) as connection:
            self.add_edges(connection, edges, run_id=run_id)

    def add_edges(
        self, connection: Connection, edges: Sequence[tuple[str, str, str]], *, run_id: str | None
    ) -> None:
        """Exact (src, dst, kind) edges written in the caller's transaction (a registration's)."""
        store.add_edges(connection, edges, run_id=run_id, now=self.clock())

    def link(self, src: str, dst: str, kind: str = "derived") -> None:
        """An edge from ``src`` to ``dst`` (both resolved to exact versions), e.g. from the
        registry: ``link("features:delivery@2", "model:clf@3", "features")``."""
        if not kind or not kind.replace("-", "").replace("_", "").isalnum():
            raise UserInputError(f"bad edge kind {kind!r}", hint="use a word like 'trained-on'")
        self.record_edges([(self.exact(src), self.exact(dst), kind)], run_id=None)

    def start_run(
        self,
        job: str,
        *,
        params: Mapping[str, Any] | None = None,
        command: Sequence[str] | None = None,
        inputs: Sequence[str] = (),
        outputs: Sequence[str] = (),
    ) -> Run:
        """Record a run as started, with its params, environment and declared inputs and
        outputs; all checked first, then written in one transaction. A run started inside
        another (an open run here, or the ``strata run`` of ``STRATA_RUN_ID``) is its child."""
        _check_job(job)
        merged = {**read_params(self.root), **dict(params or {})}
        exact_inputs = [self.exact(r) for r in inputs]
        exact_outputs = [self.exact(r) for r in outputs]
        env = environment.capture(self.root)
        git = env["git"] or {}
        run_id, now = new_run_id(), self.clock()
        row = {
            "id": run_id,
            "job": job,
            "namespace": self.namespace,
            "status": "running",
            "started_at": now,
            "command": None if command is None else list(command),
            "params": merged,
            "metrics": {},
            "environment": env,
            "git_commit": git.get("commit"),
            "git_dirty": git.get("dirty"),
            "host": env["host"],
            "pid": os.getpid(),
        }
        node = f"run:{run_id}"
        edges = [(r, node, "input") for r in exact_inputs]
        edges += [(node, r, "output") for r in exact_outputs]
        parent_id = self._open_runs[-1].id if self._open_runs else os.environ.get(RUN_ID_ENV)
        with self.db.transaction("cannot record run", write=True) as connection:
            if parent_id and store.get_run(connection, parent_id, with_edges=False) is None:
                parent_id = None  # a stale STRATA_RUN_ID names no run: no parent to name
            store.insert_run(connection, row)
            store.node_ids(connection, [node])
            store.add_edges(connection, edges, run_id=run_id, now=now)
        run = Run(self, run_id, job, now, parent_id=parent_id or None)
        run.params = merged
        self._open_runs.append(run)
        if self.emitter is not None:
            self.emitter.run_started(self, run)
        return run

    def finish_run(self, run: Run, *, error: BaseException | None = None) -> RunRecord:
        """End a run: completed, or failed when ``error`` is given or the exit code is not 0."""
        metrics = {**read_metrics(self.root, since=run.started_at), **run.metrics}
        failed = error is not None or (run.exit_code not in (None, 0))
        reason = None
        if error is not None:
            reason = f"{type(error).__name__}: {error}".strip()[:2000]
        elif failed:
            reason = f"command exited with code {run.exit_code}"
        run.ended = True
        if run in self._open_runs:
            self._open_runs.remove(run)
        with self.db.transaction("cannot record run", write=True) as connection:
            store.finish_run(
                connection,
                run.id,
                status="failed" if failed else "completed",
                ended_at=self.clock(),
                exit_code=run.exit_code,
                metrics=metrics,
                params=run.params,
                error=reason,
            )
        if self.emitter is not None:
            self.emitter.run_finished(self, run)
        return self.run(run.ref)

    def record_run(
        self,
        job: str,
        *,
        user: str,
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None,
        command: Sequence[str] | None = None,
        inputs: Sequence[str] = (),
        outputs: Sequence[str] = (),
        environment: Mapping[str, Any] | None = None,
        failed: str | None = None,
    ) -> RunRecord:
        """Record a run that ran elsewhere (a client of a server) and has ended: completed,
        or failed with the reason ``failed``. All checked first, then written in one
        transaction; the environment is the one given, its ``user`` the one named."""
        _check_job(job)
        exact_inputs = [self.exact(r) for r in inputs]
        exact_outputs = [self.exact(r) for r in outputs]
        env = {**dict(environment or {}), "user": user}
        found = env.get("git")
        git: dict[str, Any] = found if isinstance(found, dict) else {}
        run_id, now = new_run_id(), self.clock()
        row = {
            "id": run_id,
            "job": job,
            "namespace": self.namespace,
            "status": "failed" if failed else "completed",
            "started_at": now,
            "ended_at": now,
            "command": None if command is None else list(command),
            "params": checked_params(params or {}),
            "metrics": checked_metrics(metrics or {}),
            "environment": env,
            "git_commit": git.get("commit"),
            "git_dirty": git.get("dirty"),
            "host": str(env.get("host", "")),
            "pid": None,
            "error": None if failed is None else failed[:2000],
        }
        node = f"run:{run_id}"
        edges = [(r, node, "input") for r in exact_inputs]
        edges += [(node, r, "output") for r in exact_outputs]
        with self.db.transaction("cannot record run", write=True) as connection:
            store.insert_run(connection, row)
            store.node_ids(connection, [node])
            store.add_edges(connection, edges, run_id=run_id, now=now)
        return self.run(node)

    def require_running(self, run_id: str) -> None:
        record = self.run(f"run:{run_id}")
        if record.status != "running":
            raise LineageError(
                f"run:{run_id} has ended ({record.status}); cannot record into it",
                hint="unset STRATA_RUN_ID, or start a new run",
            )

    # -- reading runs -----------------------------------------------------------------------
    def run(self, ref: str) -> RunRecord:
        """The run ``run:ID`` (or ``ID``) with its inputs and outputs."""
        run_id = parse_ref(ref if ref.startswith("run:") else f"run:{ref}", expect="run").name
        with self.db.transaction("cannot read run", write=False) as connection:
            record = store.get_run(connection, run_id)
        if record is None:
            raise RunNotFoundError(f"run:{run_id} does not exist")
        return _seen_from_here(record)

    def runs(self, *, job: str | None = None, limit: int = 50) -> list[RunRecord]:
        """The newest runs first."""
        with self.db.transaction("cannot list runs", write=False) as connection:
            return [_seen_from_here(r) for r in store.list_runs(connection, job=job, limit=limit)]

    # -- feature sets and deployments -------------------------------------------------------
    def register_features(
        self, name: str, features: Sequence[str], definition: str | None = None
    ) -> FeatureSet:
        """A new version of a feature set, or the existing one with the same content."""
        parse_ref(f"features:{name}", expect="features")
        names = [f.strip() for f in features]
        if not names or any(not f or not f.isprintable() for f in names):
            raise UserInputError(
                f"feature set {name!r} needs feature names", hint="pass --features a,b,c"
            )
        if len(set(names)) != len(names):
            raise UserInputError(f"feature set {name!r} names a feature twice")
        content = json.dumps({"features": names, "definition": definition}, sort_keys=True)
        digest = hashlib.sha256(content.encode()).hexdigest()
        with self.db.transaction("cannot register feature set", write=True) as connection:
            found = store.feature_set(connection, name, content_hash=digest)
            if found is not None:
                return found
            row = {
                "name": name,
                "content_hash": digest,
                "features": names,
                "definition": definition,
                "created_at": self.clock(),
            }
            created = store.insert_feature_set(connection, row)
            store.node_ids(connection, [created.ref])
            return created

    def feature_sets(self, name: str | None = None) -> list[FeatureSet]:
        with self.db.transaction("cannot read feature sets", write=False) as connection:
            return store.feature_sets(connection, name)

    def record_deployment(
        self, model: str, *, target: str, image: str | None = None, run_id: str | None = None
    ) -> Deployment:
        """Record that a model version now serves at ``target``."""
        ref = parse_ref(model, expect="model")
        exact = self.exact(format_ref(ref))
        if not target or not target.isprintable() or len(target) > 200:
            raise UserInputError(f"bad deployment target {target!r}", hint="name the target")
        self._require_known(exact)
        deployment = Deployment(new_run_id(), exact, target, image, self.clock(), run_id)
        with self.db.transaction("cannot record deployment", write=True) as connection:
            store.insert_deployment(connection, deployment)
            store.add_edges(
                connection, [(exact, deployment.ref, "deployed")], run_id=run_id, now=self.clock()
            )
        return deployment

    def deployments(self, model: str | None = None) -> list[Deployment]:
        models = None if model is None else [self.exact(model)]
        with self.db.transaction("cannot read deployments", write=False) as connection:
            return store.deployments(connection, models=models)

    def _require_known(self, ref: str) -> None:
        """Refuse a ref nothing has recorded: not in the graph and unknown to the describers."""
        with self.db.transaction("cannot read lineage", write=False) as connection:
            if store.node_exists(connection, ref):
                return
        if self.describer.describe(parse_ref(ref)) is None:
            raise LineageError(
                f"{ref} is not known: no run, registry or catalog has recorded it",
                hint="check the name and version, e.g. with `strata lineage` or `strata runs`",
            )

    # -- questions ----------------------------------------------------------------------------
    def graph(self, ref: str, *, direction: Direction = "both", depth: int = 1000) -> Graph:
        """What is upstream and/or downstream of ``ref`` (a version or a version range)."""
        return analysis.graph(self, ref, direction=direction, depth=depth)

    def provenance(self, ref: str) -> dict[str, Any]:
        """The chain behind a version: data, features, code, run, environment, serving."""
        return analysis.provenance(self, ref)

    def impact(
        self, ref: str, *, suggest: bool = False, archive_reason: str | None = None
    ) -> Impact:
        """Everything downstream of a version or range, or of one column of it
        (``table:deliveries@4#delay_min``, as events' column lineage says); optionally the
        rollback target of each affected model, and archiving the affected model versions."""
        if archive_reason is not None and (self.archiver is None or not archive_reason.strip()):
            raise LineageError(
                "cannot archive: " + ("no reason given" if self.archiver else "no model registry"),
                hint="pass --reason TEXT" if self.archiver else "archive with the registry",
            )
        base, column = split_column(ref)
        result = analysis.impact(self, ref) if column is None else column_impact(self, base, column)
        if suggest:
            result.suggestions = analysis.suggest_rollbacks(self, result)
        if archive_reason is not None and self.archiver is not None:
            for model in result.models():
                if model.details.get("stage") == "archived":
                    continue
                self.archiver(model.ref, archive_reason)
                result.archived.append(model.ref)
        return result

    def compare(self, a: str, b: str) -> dict[str, Any]:
        """What differs between two model versions (or runs): data, code, params, env."""
        return compare(self, a, b)

    def reproduce(self, ref: str, into: Path, *, run: bool = False) -> Reproduction:
        """The code, inputs, params and packages of the run behind ``ref``, in ``into``."""
        return reproduce(self, ref, into, objects=self.objects, rerun=run)

    def ingest(self, path: Path) -> IngestResult:
        """OpenLineage RunEvents from a file, into the graph; bad ones rejected one by one."""
        return ingest(self, path)

    def check_event(self, event: Any) -> Planned:
        """One OpenLineage event (parsed JSON) checked, its datasets resolved to refs, nothing
        stored; UserInputError with the reason when it cannot be taken."""
        return plan(self, event)

    def record_event(self, planned: Planned) -> None:
        """Store a checked event, atomically, with the events other threads are storing at
        the same moment (group commit); the same event again changes nothing."""
        self._events.record(planned)

    def named(self) -> NamedView:
        """The graph by dataset and job name, as Marquez shows it."""
        return NamedView(self)

    def flush_events(self) -> int:
        """Resend queued OpenLineage events; how many were sent."""
        if self.emitter is None:
            raise LineageError(
                "no OpenLineage transport is configured",
                hint="set lineage.openlineage.transport in .strata/config.toml",
            )
        return self.emitter.flush()


_EXACT_HINTS = {
    "table": "name the version, e.g. table:deliveries@47",
    "model": "name the version number, e.g. model:delay-classifier@3",
    "file": "name a recorded content hash, e.g. file:data/raw@1f2e3d4c, or `strata add` it",
}


def _check_job(job: str) -> None:
    if not isinstance(job, str) or not job or len(job) > 200 or not job.isprintable():
        raise UserInputError(f"bad job name {job!r}", hint="name the job, e.g. --name train")


def _seen_from_here(record: RunRecord) -> RunRecord:
    """A run still marked running whose process on this host is gone is "unfinished"."""
    if record.status != "running" or record.pid is None or record.host != socket.gethostname():
        return record
    try:
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return replace(record, status="unfinished")
    except PermissionError:
        pass
    return record
