"""The Python API: one Strata project — its config, cache, metadata database and git.

ws = Workspace(".")
ws.add(["data/raw"])
ws.status()
ws.checkout(rev="HEAD~1")
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from strata.activity import Activity, NoActivity
from strata.config import (
    STRATA_DIR,
    Config,
    LinkType,
    remove_section,
    set_value,
    unset_value,
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
    from strata.files.transfer import RemoteState
    from strata.meta import FileVersion, MetadataDB
    from strata.objects.remote import Remote, TransferResult
    from strata.refs import Ref

Progress = Callable[[int], None]
StrPath = str | os.PathLike[str]

_REMOTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_STRATA_GITIGNORE = "/cache\n/tmp\n/strata.db*\n/state.db*\n/config.local.toml\n"


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
        return add_paths(
            self.files, self.relpaths(paths), before_commit=self._record, progress=progress
        )

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
            self.files, all_refs=not workspace_only, dry_run=dry_run, force=force
        )

    # -- remotes ----------------------------------------------------------------------------
    def add_remote(self, name: str, url: str, *, default: bool = False) -> None:
        """Record a remote in the committed config; credentials never go there."""
        if not _REMOTE_NAME.fullmatch(name):
            raise UserInputError(
                f"bad remote name {name!r}", hint="use letters, digits, '-' and '_'"
            )
        if name in self.remotes():
            raise UserInputError(
                f"remote {name!r} exists already", hint="use `strata remote modify` to change it"
            )
        set_value(self.root, f"remote.{name}.url", url)
        if default:
            set_value(self.root, "core.remote", name)
        self.config = Config.load(self.root)

    def remotes(self) -> dict[str, dict[str, str]]:
        """Every remote: name → its settings (url, endpoint_url, …)."""
        found: dict[str, dict[str, str]] = {}
        for key, value in self.config.values.items():
            if key.startswith("remote.") and key.count(".") >= 2:
                _, name, option = key.split(".", 2)
                found.setdefault(name, {})[option] = value
        return dict(sorted(found.items()))

    def remove_remote(self, name: str) -> None:
        self._remote_settings(name)
        for scope in ("project", "local"):
            remove_section(self.root, f"remote.{name}", scope=scope)
        if self.config.get("core.remote") == name:
            unset_value(self.root, "core.remote")
        self.config = Config.load(self.root)

    def modify_remote(self, name: str, key: str, value: str, *, local: bool = False) -> None:
        """Change one setting; ``local`` keeps it in the git-ignored file (for secrets)."""
        self._remote_settings(name)
        set_value(self.root, f"remote.{name}.{key}", value, scope="local" if local else "project")
        self.config = Config.load(self.root)

    def _remote_settings(self, name: str) -> dict[str, str]:
        remotes = self.remotes()
        if name not in remotes:
            known = ", ".join(remotes) or "none yet"
            raise UserInputError(
                f"no remote named {name!r} (known: {known})",
                hint="add one with `strata remote add NAME URL`",
            )
        return remotes[name]

    def remote(self, name: str | None = None) -> Remote:
        """The named remote, or the default one (``core.remote``, or the only one)."""
        from strata.objects.remote import Remote

        chosen = name or self.config.get("core.remote")
        if not chosen:
            remotes = list(self.remotes())
            if len(remotes) != 1:
                raise UserInputError(
                    "no default remote",
                    hint="name one with -r, or `strata remote add NAME URL --default`",
                )
            chosen = remotes[0]
        settings = self._remote_settings(chosen)
        if "url" not in settings:
            raise UserInputError(f"remote {chosen!r} has no url", hint="set remote.NAME.url")
        options = {k: v for k, v in settings.items() if k != "url"}
        url = settings["url"]
        if "://" not in url and not Path(url).is_absolute():
            url = str(self.root / url)  # a relative folder is relative to the workspace
        return Remote(chosen, url, options)

    def _tracked(self, paths: Sequence[StrPath], rev: str | None) -> list[Tracked]:
        relpaths = self.relpaths(paths)
        if rev is None:
            return tracked_in_tree(self.files, relpaths)
        return tracked_at(self.files, self._commit(rev), relpaths)

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
        from strata.files.transfer import push

        target = self.remote(remote)
        return push(self.files, target, self._tracked(paths, rev), jobs=jobs, progress=progress)

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
        from strata.files.transfer import fetch

        source = self.remote(remote)
        return fetch(self.files, source, self._tracked(paths, rev), jobs=jobs, progress=progress)

    def remote_status(
        self, paths: Sequence[StrPath] = (), *, remote: str | None = None
    ) -> list[RemoteState]:
        """Per tracked path: objects not yet pushed, and objects a pull would bring."""
        from strata.files.transfer import remote_status

        return remote_status(self.files, self.remote(remote), self._tracked(paths, None))

    def verify_remote(
        self, *, remote: str | None = None, jobs: int = 4, progress: Progress = _no_progress
    ) -> VerifyResult:
        """Re-hash every object on the remote; report the corrupt ones by name."""
        from strata.files.transfer import verify_remote
        from strata.files.verify import Problem

        source = self.remote(remote)
        checked, failed = verify_remote(source, jobs=jobs, progress=progress)
        problems = tuple(Problem(f.name, f"on remote {source.name!r}", "corrupt") for f in failed)
        return VerifyResult(checked, problems)

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
        result = self.fetch(paths, remote=remote, jobs=jobs, progress=progress)
        if result.failed:
            return result, []
        return result, self.checkout(paths, force=force)

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
