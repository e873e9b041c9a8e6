"""The Python API: one Strata project — its config, cache, metadata database and git.

The Workspace is the composition root: it opens the config, the database and the stores, and
builds each capability with the collaborators it needs. The work is theirs:

    ws = Workspace(".")
    ws.files.add(["data/raw"])                 # files/      tracked files and folders
    ws.remotes.push()                          # files/      remotes, push, pull, imports
    ws.tables.open("deliveries").at(47)        # tables/     Delta and Iceberg tables
    ws.models.register("clf", "model.skops")   # models/     the registry
    ws.lineage.provenance("model:clf@3")       # lineage/    runs, lineage, provenance
    ws.pipelines.repro()                       # pipelines/  strata.yaml stages
    ws.recovery.roll_back(parse_ref("model:clf"))   # recovery/  rollback, releases
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from strata.activity import Activity, CurrentActivity, NoActivity
from strata.config import STRATA_DIR, Config, LinkType, find_root, init_project
from strata.files import FilesContext
from strata.files.service import Files, StrPath
from strata.objects import ObjectStore, StateCache
from strata.scm import Git

if TYPE_CHECKING:
    from strata.files.remotes import Remotes
    from strata.guard.check import Guard
    from strata.guard.references import ReferenceProfiles
    from strata.lineage import Lineage, Run
    from strata.lineage.run_artifacts import RunArtifacts
    from strata.lineage.tracking import Tracking
    from strata.meta import MetadataDB
    from strata.meta.users import Users
    from strata.models import Registry
    from strata.pipelines.service import Pipelines
    from strata.recovery import Recovery
    from strata.tables import Table, TableCatalog


def _is_superuser() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class Workspace:
    def __init__(self, path: StrPath = ".", *, environ: Mapping[str, str] | None = None) -> None:
        self.root = find_root(Path(path))
        self.config = Config.load(self.root, environ)
        # What tables and models report reads and writes to; a run in progress replaces it.
        self.activity: Activity = NoActivity()
        run_id = (os.environ if environ is None else environ).get("STRATA_RUN_ID")
        if run_id:  # a child process of `strata run`: record into the parent's run
            from strata.lineage.runs import AttachedActivity

            self.activity = AttachedActivity(run_id, lambda: self.lineage)

    # -- setting up -------------------------------------------------------------------------
    @classmethod
    def init(cls, path: StrPath = ".", *, git: bool = True, force: bool = False) -> Workspace:
        """Make ``path`` a workspace (``.strata/``), in a git repository unless ``git`` is
        False, and create its metadata database."""
        root = Path(path).resolve()
        init_project(root, git=git, force=force)
        workspace = cls(root)
        workspace.db  # noqa: B018 - creates the metadata database and applies migrations
        return workspace

    # -- parts, opened on first use ---------------------------------------------------------
    @cached_property
    def git(self) -> Git | None:
        return Git(self.root) if self.config.get_bool("core.git") else None

    @cached_property
    def store(self) -> ObjectStore:
        return ObjectStore(self.config.cache_dir, self.link_types)

    @property
    def link_types(self) -> tuple[LinkType, ...]:
        """The configured link types; by default the superuser gets no hardlinks, because
        a read-only file does not stop root from editing it in place, which would change
        the cached version too."""
        types = self.config.link_types
        if self.config.sources.get("cache.type") == "default" and _is_superuser():
            types = tuple(t for t in types if t != "hardlink")
        return types

    @cached_property
    def state(self) -> StateCache:
        return StateCache(self.root / STRATA_DIR / "state.db")

    @cached_property
    def files(self) -> Files:
        """Tracked files and folders: add, status, checkout, diff, gc, verify."""
        jobs = self.config.get_int("cache.jobs")
        context = FilesContext(self.root, self.store, self.state, self.git, jobs)
        activity = CurrentActivity(lambda: self.activity)
        return Files(context, lambda: self.db, activity, also_keep=lambda: self._kept_objects())

    @cached_property
    def remotes(self) -> Remotes:
        """Remotes: their settings, push, fetch, pull, ``gc --cloud``, imports."""
        from strata.files.remotes import Remotes

        def reload_config() -> None:
            self.config = Config.load(self.root)

        return Remotes(
            self.files,
            lambda: self.config,
            reload_config,
            registered=lambda: [*self.models.artifacts(), *self.references.as_artifacts()],
            also_keep=lambda: self._kept_objects(),
        )

    def _kept_objects(self) -> list[str]:
        """Objects gc keeps besides what pointers need, locally and on remotes alike: the
        registry's artifacts, the reference profiles kept with them, and runs' artifacts."""
        kept = self.models.artifact_objects() + self.references.objects()
        return kept + self.run_artifacts.objects()

    @cached_property
    def db(self) -> MetadataDB:
        from strata.meta import open_database

        return open_database(self.config.metadata_url)

    @cached_property
    def models(self) -> Registry:
        """The model registry: versions, stages, aliases and their audit trail."""
        from strata.activity import CurrentActivity
        from strata.models import Registry
        from strata.recovery.links import RegistrationLinks

        links = RegistrationLinks(
            tables=lambda: self.tables,
            lineage=lambda: self.lineage,
            registry=lambda: self.models,
            targets=lambda: self.recovery.rollbacks.targets,
            activity=CurrentActivity(lambda: self.activity),
        )
        activity = CurrentActivity(lambda: self.activity)
        return Registry(self.db, self.store, self.config, activity, git=self.git, links=links)

    @cached_property
    def lineage(self) -> Lineage:
        """Runs, the lineage graph, provenance, impact (``strata.lineage``)."""
        from strata.lineage.setup import open_lineage
        from strata.recovery import links

        resolver = links.LineageResolver(
            file_hash=lambda ref: self.files.tracked_for_ref(ref).pointer.hash,
            tables=lambda: self.tables,
            registry=lambda: self.models,
        )
        return open_lineage(
            self.root,
            self.db,
            self.config,
            resolver=resolver,
            describers=[links.ModelDescriber(lambda: self.models)],
            objects=self.store,
            table_stats=lambda name, version: self.tables.open(name).stats(version).to_dict(),
            rows_written=lambda name, version: self.tables.rows_written(name, version),
            snapshot_version=lambda name, snapshot: self.tables.snapshot_version(name, snapshot),
            archiver=lambda ref, reason: self.models.promote(ref, "archived", reason=reason),
            materializer=links.TableExporter(lambda: self.tables),
        )

    @cached_property
    def tracking(self) -> Tracking:
        """Experiments, and runs as MLflow's tracking API records them (Strata runs)."""
        from strata.lineage.tracking import Tracking

        return Tracking(self.db, namespace=self.lineage.namespace)

    @cached_property
    def run_artifacts(self) -> RunArtifacts:
        """Files tracking clients log with their runs, kept as objects of ``self.store``."""
        from strata.lineage.run_artifacts import RunArtifacts

        return RunArtifacts(self.db, self.store)

    @contextmanager
    def run(
        self,
        job: str,
        *,
        params: Mapping[str, object] | None = None,
        command: Sequence[str] | None = None,
        inputs: Sequence[str] = (),
        outputs: Sequence[str] = (),
    ) -> Iterator[Run]:
        """Record a run; what Strata reads and writes inside it becomes its inputs and
        outputs. An exception ends it as failed (and propagates)."""
        run = self.lineage.start_run(
            job, params=params, command=command, inputs=inputs, outputs=outputs
        )
        previous, self.activity = self.activity, run
        try:
            yield run
        except BaseException as exc:
            self.lineage.finish_run(run, error=exc)
            raise
        else:
            self.lineage.finish_run(run)
        finally:
            self.activity = previous

    @cached_property
    def users(self) -> Users:
        """Who may use a server on this workspace: users, roles, tokens, grants."""
        from strata.meta.users import Users

        return Users(self.db)

    @cached_property
    def tables(self) -> TableCatalog:
        """The table catalog; tables report reads and writes to ``self.activity``."""
        from strata.tables import TableCatalog

        root = self.config.get("tables.root")
        return TableCatalog(self.db, self.root, root, lambda: self.activity)

    def table(self, name: str) -> Table:
        """A catalogued table: ``ws.table("deliveries").at(47).to_arrow()``."""
        return self.tables.open(name)

    @cached_property
    def pipelines(self) -> Pipelines:
        """``strata.yaml`` stages run as recorded runs when their inputs changed; metrics,
        params and plots across revisions."""
        from strata.pipelines.parts import PipelineParts
        from strata.pipelines.service import Pipelines

        def exact(ref: str) -> str:
            if ref.startswith("table:"):
                table, version = self.tables.version_of(ref)
                return f"table:{table.name}@{version}"
            return self.models.resolve(ref).ref

        parts = PipelineParts(
            self.root,
            self.config.cache_dir,
            self.files,
            self.store,
            self.git,
            self.run,
            exact,
            lambda ref: self.models.show(ref),
        )
        return Pipelines(parts)

    @cached_property
    def guard(self) -> Guard:
        """Guard checks; their rollbacks go through the recovery's readiness checks first."""
        from strata.guard.check import Guard

        return Guard(self.db, self.recovery.rollbacks)

    @cached_property
    def references(self) -> ReferenceProfiles:
        """Reference distributions kept with model versions, for drift checks."""
        from strata.guard.references import ReferenceProfiles

        return ReferenceProfiles(
            self.models, self.store, lambda source: self.tables.read_data(source)
        )

    @cached_property
    def recovery(self) -> Recovery:
        """Rollback across models, tables and files; releases; incident reports."""
        from strata.recovery.setup import open_recovery

        return open_recovery(
            self.db, self.models, self.tables, self.store,
            file_versions=lambda path: self.files.versions(self.root / path),
            default_remote=self.remotes.default,
            tracked_files=lambda: {t.path: t.pointer.hash for t in self.files.tracked()},
            git_head=lambda: self.git.head() if self.git is not None else None,
            guard=lambda: self.guard, lineage=lambda: self.lineage,
        )  # fmt: skip

    def close(self) -> None:
        self.state.close()
        if "db" in self.__dict__:
            self.db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
