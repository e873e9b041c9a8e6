"""The Python API: one Strata project — its config, cache, metadata database and git.

ws = Workspace(".")
ws.add(["data/raw"])
ws.status()
ws.checkout(rev="HEAD~1")
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from strata import remotes
from strata.activity import Activity, NoActivity
from strata.config import (
    STRATA_DIR,
    Config,
    LinkType,
    set_value,
)
from strata.errors import (
    GitError,
    NotAWorkspaceError,
    RevisionNotFoundError,
    UserInputError,
    WorkspaceError,
)
from strata.files import (
    POINTER_SUFFIX,
    AddResult,
    CheckoutResult,
    DiffEntry,
    FilesContext,
    GcResult,
    PathStatus,
    Pointer,
    Tracked,
    VerifyResult,
    add_paths,
    checkout,
    tracked_at,
    tracked_in_tree,
)
from strata.files import diff as file_diff
from strata.files import gc as file_gc
from strata.files import status as file_status
from strata.files import verify as file_verify
from strata.objects import ObjectStore, StateCache
from strata.scm import Git

if TYPE_CHECKING:
    import pyarrow as pa

    from strata.files.gc import CloudGcResult
    from strata.files.imports import ImportResult
    from strata.files.transfer import RemoteState
    from strata.guard.check import Guard
    from strata.lineage import Lineage, Run
    from strata.meta import FileVersion, MetadataDB
    from strata.models import Registry
    from strata.objects.remote import Remote, TransferResult
    from strata.refs import Ref
    from strata.releases import Releases
    from strata.repro import ReproResult
    from strata.tables import Table, TableCatalog

Progress = Callable[[int], None]
StrPath = str | os.PathLike[str]

_STRATA_GITIGNORE = (
    "/cache\n/tmp\n/strata.db*\n/state.db*\n/config.local.toml\n/openlineage*.jsonl\n"
)


def _no_progress(_: int) -> None:
    return None


def _is_superuser() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` that holds ``.strata/``."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / STRATA_DIR).is_dir():
            return folder
    raise NotAWorkspaceError(f"{start} is not inside a Strata workspace")


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
        root = Path(path).resolve()
        strata_dir = root / STRATA_DIR
        if strata_dir.exists() and not force:
            raise WorkspaceError(
                f"{root} is already a Strata workspace", hint="pass --force to initialise again"
            )
        if git and not Git(root).is_repo():
            raise GitError(
                f"{root} is not in a git repository",
                hint="run `git init` first, or pass --no-git for a plain folder",
            )
        strata_dir.mkdir(parents=True, exist_ok=True)
        (strata_dir / ".gitignore").write_text(_STRATA_GITIGNORE, encoding="utf-8")
        set_value(root, "core.git", "true" if git else "false")
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
    def files(self) -> FilesContext:
        jobs = self.config.get_int("cache.jobs")
        return FilesContext(self.root, self.store, self.state, self.git, jobs)

    @cached_property
    def db(self) -> MetadataDB:
        from strata.meta import open_database

        return open_database(self.config.metadata_url)

    @cached_property
    def models(self) -> Registry:
        """The model registry: versions, stages, aliases and their audit trail."""
        from strata.links import ActiveActivity, RegistrationLinks
        from strata.models import Registry

        return Registry(
            self.db,
            self.store,
            self.config,
            ActiveActivity(self),
            git=self.git,
            links=RegistrationLinks(self),
        )

    @cached_property
    def lineage(self) -> Lineage:
        """Runs, the lineage graph, provenance, impact (``strata.lineage``)."""
        from strata import links
        from strata.lineage.setup import open_lineage

        return open_lineage(
            self.root,
            self.db,
            self.config,
            resolver=links.LineageResolver(self),
            describers=[links.ModelDescriber(self)],
            objects=self.store,
            table_stats=lambda name, version: self.tables.open(name).stats(version).to_dict(),
            rows_written=self.tables.rows_written,
            archiver=lambda ref, reason: self.models.promote(ref, "archived", reason=reason),
            materializer=links.TableExporter(self),
        )

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
    def tables(self) -> TableCatalog:
        """The table catalog; tables report reads and writes to ``self.activity``."""
        from strata.tables import TableCatalog

        root = self.config.get("tables.root")
        return TableCatalog(self.db, self.root, root, lambda: self.activity)

    def table(self, name: str) -> Table:
        """A catalogued table: ``ws.table("deliveries").at(47).to_arrow()``."""
        return self.tables.open(name)

    def read_data(self, source: str) -> pa.Table:
        """``table:NAME@V`` at that version, or a Parquet, CSV or JSON Lines file, as Arrow."""
        if source.startswith("table:"):
            table, version = self.tables.version_of(source)
            return table.at(version).to_arrow()
        from strata.tables.inputs import read_file

        return read_file(Path(source))

    def repro(
        self, targets: Sequence[str] = (), *, force: bool = False, dry_run: bool = False
    ) -> ReproResult:
        """Run the stages of ``strata.yaml`` whose inputs changed, each as a recorded run."""
        from strata.repro import reproduce

        return reproduce(self, targets, force=force, dry_run=dry_run)

    @cached_property
    def guard(self) -> Guard:
        """Guard checks; their rollbacks go through ``strata.rollback`` readiness first."""
        from strata.guard.check import Guard
        from strata.rollback import ModelRollbacks

        return Guard(self.db, ModelRollbacks(self))

    @cached_property
    def releases(self) -> Releases:
        """Named sets of code, model, table and file versions, and their rollback."""
        from strata.releases import Releases

        return Releases(self)

    def close(self) -> None:
        self.state.close()
        if "db" in self.__dict__:
            self.db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- helpers ----------------------------------------------------------------------------
    def relpaths(self, paths: Sequence[StrPath], cwd: Path | None = None) -> list[str]:
        return [self.files.relpath(p, cwd=cwd) for p in paths]

    def _commit(self, rev: str) -> str:
        if self.git is None:
            raise UserInputError(
                f"cannot use git revision {rev!r}: this workspace does not use git",
                hint="drop --rev, or re-initialise the workspace inside a git repository",
            )
        return self.git.resolve(rev)

    # -- files ------------------------------------------------------------------------------
    def add(
        self, paths: Sequence[StrPath], *, progress: Progress = _no_progress
    ) -> list[AddResult]:
        """Track files or folders: contents into the cache, a pointer beside each."""
        results = add_paths(
            self.files, self.relpaths(paths), before_commit=self._record, progress=progress
        )
        if self.activity.run_id() is not None:
            for r in results:
                self.activity.wrote(f"file:{r.path}@{r.hash[:12]}")
        return results

    def _record(self, results: Sequence[AddResult]) -> None:
        from strata.meta import FileVersion

        self.db.record_file_versions(
            FileVersion(r.path, r.hash, r.kind, r.size, r.files) for r in results
        )

    def file_versions(self, path: StrPath | None = None) -> list[FileVersion]:
        """Every version of tracked paths this workspace has added (for lineage)."""
        return self.db.file_versions(None if path is None else self.files.relpath(path))

    def status(self, paths: Sequence[StrPath] = ()) -> list[PathStatus]:
        """How each tracked path in the workspace differs from its pointer."""
        tracked = tracked_in_tree(self.files, self.relpaths(paths))
        return [file_status.path_status(self.files, t) for t in tracked]

    def checkout(
        self,
        paths: Sequence[StrPath] = (),
        *,
        rev: str | None = None,
        force: bool = False,
        progress: Progress = _no_progress,
    ) -> list[CheckoutResult]:
        """Restore tracked data from its pointers, or from the pointers at git ``rev``.

        A path may be a ref, ``file:data/raw@HEAD~1`` (a git revision) or
        ``file:data/raw@433c66d6`` (a content-hash prefix of a version added earlier).
        """
        plain, refs = _split_file_refs(paths)
        relpaths = self.relpaths(plain)
        targets: list[Tracked] = []
        for ref in refs:
            targets.append(self._tracked_for_ref(ref, rev))
        if rev is not None and (relpaths or not refs):
            targets += tracked_at(self.files, self._commit(rev), relpaths)
        elif rev is None and (relpaths or not refs):
            targets += tracked_in_tree(self.files, relpaths)
        write = rev is not None or bool(refs)
        return checkout(self.files, targets, force=force, write_pointers=write, progress=progress)

    def _tracked_for_ref(self, ref: Ref, rev: str | None) -> Tracked:
        relpath = self.files.relpath(ref.name, cwd=self.root)
        if ref.selector is None:
            if rev is not None:
                return tracked_at(self.files, self._commit(rev), [relpath])[0]
            return tracked_in_tree(self.files, [relpath])[0]
        text = str(ref.selector)
        if rev is not None and rev != text:
            raise UserInputError(f"{ref} names revision {text!r} but --rev says {rev!r}")
        try:
            return tracked_at(self.files, self._commit(text), [relpath])[0]
        except RevisionNotFoundError:
            found = self._version_by_hash(relpath, text)
            if found is None:
                raise
            return found

    def _version_by_hash(self, relpath: str, prefix: str) -> Tracked | None:
        """The version of ``relpath`` added earlier whose hash starts with ``prefix``."""
        if len(prefix) < 4 or any(c not in "0123456789abcdef" for c in prefix):
            return None
        matches = [v for v in self.file_versions(relpath) if v.hash.startswith(prefix)]
        if len({v.hash for v in matches}) > 1:
            raise UserInputError(
                f"hash prefix {prefix!r} of {relpath} is ambiguous", hint="give more digits"
            )
        if not matches:
            return None
        v = matches[0]
        name = posixpath.basename(relpath)
        pointer = Pointer(path=name, kind=v.kind, hash=v.hash, size=v.size, files=v.files)
        return Tracked(relpath + POINTER_SUFFIX, pointer)

    def split_revisions(self, args: Sequence[str], *, most: int = 2) -> tuple[list[str], list[str]]:
        """Split ``[REV_A [REV_B]] [PATH]...``: leading arguments that name git revisions are
        revisions; the rest are paths."""
        revs: list[str] = []
        for index, arg in enumerate(args):
            if len(revs) == most or self.git is None or not self._is_revision(arg):
                rest = list(args[index:])
                self.relpaths(rest)  # refuses paths outside the workspace
                return revs, rest
            revs.append(arg)
        return revs, []

    def _is_revision(self, text: str) -> bool:
        assert self.git is not None
        try:
            self.git.resolve(text)
        except RevisionNotFoundError:
            if not (Path.cwd() / text).exists() and not (self.root / text).exists():
                raise RevisionNotFoundError(
                    f"git revision {text!r} does not exist, and no such path either"
                ) from None
            return False
        return True

    def diff(
        self,
        rev_a: str | None = None,
        rev_b: str | None = None,
        paths: Sequence[StrPath] = (),
    ) -> list[DiffEntry]:
        """Files added, modified and deleted from ``rev_a`` (default HEAD) to ``rev_b``
        (default: the workspace as it is now)."""
        relpaths = self.relpaths(paths)
        old = tracked_at(self.files, self._commit(rev_a or "HEAD"))
        if rev_b is None:
            new = tracked_in_tree(self.files)
        else:
            new = tracked_at(self.files, self._commit(rev_b))
        skip = file_diff.unchanged(old, new) if rev_b is not None else set()
        before = file_diff.files_recorded(self.files, old, skip)
        if rev_b is None:
            after = file_diff.files_in_workspace(self.files, new, skip)
        else:
            after = file_diff.files_recorded(self.files, new, skip)
        entries = file_diff.compare(before, after)
        if relpaths:
            entries = [e for e in entries if any(_within(e.path, p) for p in relpaths)]
        return entries

    def gc(
        self, *, workspace_only: bool = False, dry_run: bool = False, force: bool = False
    ) -> GcResult:
        """Remove cached objects that no pointer needs, on any branch or tag by default."""
        return file_gc.collect(
            self.files,
            all_refs=not workspace_only,
            dry_run=dry_run,
            force=force,
            also_keep=self._gc_also_keep(),
        )

    def _gc_also_keep(self) -> list[str]:
        """Objects gc keeps besides what pointers need, locally and on remotes alike (the
        model registry's artifacts and the reference profiles kept with them belong here)."""
        from strata.references import profile_objects

        return self.models.artifact_objects() + profile_objects(self)

    def _model_artifacts(self, paths: Sequence[StrPath]) -> list[Tracked]:
        """Registered model artifacts as pointers push and fetch understand; only when no
        paths are named (models travel with a whole-workspace push, fetch or pull)."""
        from strata.references import profile_objects

        if paths:
            return []
        artifacts = [
            Tracked(f"{a.name}{POINTER_SUFFIX}", Pointer(a.name, a.kind, a.hash, a.size, a.files))
            for a in self.models.artifacts()
        ]
        profiles = [  # fetch brings them as it brings artifacts; push sends what is cached
            Tracked(f"{name}{POINTER_SUFFIX}", Pointer(name, "file", digest, 0, 1))
            for digest in profile_objects(self)
            for name in [f"reference-profile-{digest[:12]}"]
        ]
        return artifacts + profiles

    # -- remotes (strata.remotes does the work) ---------------------------------------------
    def add_remote(self, name: str, url: str, *, default: bool = False) -> None:
        """Record a remote in the committed config; credentials never go there."""
        remotes.add_remote(self, name, url, default=default)

    def remotes(self) -> dict[str, dict[str, str]]:
        """Every remote: name → its settings (url, endpoint_url, …)."""
        return remotes.remotes(self)

    def remove_remote(self, name: str) -> None:
        remotes.remove_remote(self, name)

    def modify_remote(self, name: str, key: str, value: str, *, local: bool = False) -> None:
        """Change one setting; ``local`` keeps it in the git-ignored file (for secrets)."""
        remotes.modify_remote(self, name, key, value, local=local)

    def remote(self, name: str | None = None) -> Remote:
        """The named remote, or the default one (``core.remote``, or the only one)."""
        return remotes.open_remote(self, name)

    def push(
        self,
        paths: Sequence[StrPath] = (),
        *,
        remote: str | None = None,
        rev: str | None = None,
        jobs: int = 4,
        progress: Progress = _no_progress,
    ) -> TransferResult:
        """Upload the objects the pointers need that the remote lacks."""
        return remotes.push(self, paths, remote=remote, rev=rev, jobs=jobs, progress=progress)

    def fetch(
        self,
        paths: Sequence[StrPath] = (),
        *,
        remote: str | None = None,
        rev: str | None = None,
        jobs: int = 4,
        progress: Progress = _no_progress,
    ) -> TransferResult:
        """Download into the cache the objects the pointers need, verified as they arrive."""
        return remotes.fetch(self, paths, remote=remote, rev=rev, jobs=jobs, progress=progress)

    def remote_status(
        self, paths: Sequence[StrPath] = (), *, remote: str | None = None
    ) -> list[RemoteState]:
        """Per tracked path: objects not yet pushed, and objects a pull would bring."""
        return remotes.remote_status(self, paths, remote=remote)

    def verify_remote(
        self, *, remote: str | None = None, jobs: int = 4, progress: Progress = _no_progress
    ) -> VerifyResult:
        """Re-hash every object on the remote; report missing, corrupt and unreadable ones."""
        return remotes.verify_remote(self, remote=remote, jobs=jobs, progress=progress)

    def pull(
        self,
        paths: Sequence[StrPath] = (),
        *,
        remote: str | None = None,
        jobs: int = 4,
        force: bool = False,
        progress: Progress = _no_progress,
    ) -> tuple[TransferResult, list[CheckoutResult]]:
        """Fetch, then check out; nothing is checked out when an object could not be fetched."""
        return remotes.pull(self, paths, remote=remote, jobs=jobs, force=force, progress=progress)

    def gc_cloud(
        self,
        *,
        remote: str | None = None,
        dry_run: bool = False,
        force: bool = False,
        progress: Progress = _no_progress,
    ) -> CloudGcResult:
        """Remove remote objects that no pointer on any branch or tag needs (nor what
        ``gc`` keeps besides); refuses a remote other repositories push to unless forced."""
        return remotes.gc_cloud(
            self,
            remote=remote,
            dry_run=dry_run,
            force=force,
            also_keep=self._gc_also_keep(),
            progress=progress,
        )

    def import_path(
        self,
        url: str,
        path: str,
        *,
        out: StrPath | None = None,
        rev: str | None = None,
        progress: Progress = _no_progress,
    ) -> ImportResult:
        """Bring a tracked path from another Strata repository, recording where it came from."""
        return remotes.import_path(self, url, path, out=out, rev=rev, progress=progress)

    def update(
        self,
        paths: Sequence[StrPath] = (),
        *,
        rev: str | None = None,
        force: bool = False,
        progress: Progress = _no_progress,
    ) -> list[ImportResult]:
        """Bring newer versions of imported paths (all, or the ones named)."""
        return remotes.update(self, paths, rev=rev, force=force, progress=progress)

    def verify(self, *, progress: Progress = _no_progress) -> VerifyResult:
        """Re-hash every cached object; report corrupt and missing ones by name."""
        return file_verify.verify(self.files, progress)


def _split_file_refs(paths: Sequence[StrPath]) -> tuple[list[StrPath], list[Ref]]:
    """Separate ``file:`` refs from plain paths."""
    from strata.refs import parse_ref

    plain: list[StrPath] = []
    refs: list[Ref] = []
    for p in paths:
        if isinstance(p, str) and p.startswith("file:"):
            refs.append(parse_ref(p, expect="file"))
        else:
            plain.append(p)
    return plain, refs


def _within(path: str, prefix: str) -> bool:
    return prefix == "." or path == prefix or path.startswith(prefix.rstrip("/") + "/")
