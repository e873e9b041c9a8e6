"""``ws.files``: tracked files and folders in place — add, status, checkout, diff, gc, verify.

ws.files.add(["data/raw"])
ws.files.status()
ws.files.checkout(rev="HEAD~1")
ws.files.checkout(["file:data/raw@433c66d6"])   # a version added earlier, by hash prefix
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from strata.core.progress import Progress as Progress  # taken from here by ws.remotes
from strata.core.progress import no_progress as no_progress
from strata.errors import RevisionNotFoundError, UserInputError
from strata.files import status as file_status
from strata.files.discover import Tracked, tracked_at, tracked_in_tree
from strata.files.pointer import POINTER_SUFFIX, Pointer
from strata.parallel import Background

# add, checkout, diff, gc and verify are imported by the methods that run them: a command
# loads only the code it needs.
if TYPE_CHECKING:
    from strata.activity import Activity
    from strata.files.add import AddResult
    from strata.files.checkout import CheckoutResult
    from strata.files.context import FilesContext
    from strata.files.diff import DiffEntry
    from strata.files.dvc_import import DvcImportResult
    from strata.files.dvc_repo import DvcOut
    from strata.files.gc import GcResult
    from strata.files.status import PathStatus
    from strata.files.verify import VerifyResult
    from strata.meta import FileVersion, MetadataDB
    from strata.refs import Ref

StrPath = str | os.PathLike[str]


class Files:
    def __init__(
        self,
        context: FilesContext,
        db: Callable[[], MetadataDB],
        activity: Activity,
        *,
        also_keep: Callable[[], list[str]],
    ) -> None:
        self.context = context
        self.root = context.root
        self._db = db  # opened on first use: `status` needs no database
        self._activity = activity
        self._also_keep = also_keep  # objects gc keeps besides what pointers need

    def relpath(self, path: StrPath, *, cwd: Path | None = None) -> str:
        """The workspace-relative POSIX path of a user-given path; refuses anything outside."""
        return self.context.relpath(path, cwd=cwd)

    def relpaths(self, paths: Sequence[StrPath], cwd: Path | None = None) -> list[str]:
        return [self.context.relpath(p, cwd=cwd) for p in paths]

    def commit_of(self, rev: str) -> str:
        """The commit a git revision names; refused in a workspace without git."""
        if self.context.git is None:
            raise UserInputError(
                f"cannot use git revision {rev!r}: this workspace does not use git",
                hint="drop --rev, or re-initialise the workspace inside a git repository",
            )
        return self.context.git.resolve(rev)

    def tracked(self, paths: Sequence[StrPath] = (), rev: str | None = None) -> list[Tracked]:
        """The pointers of the working tree (or of git ``rev``), for the paths named or all."""
        return self._tracked(self.relpaths(paths), rev)

    def _tracked(self, relpaths: list[str], rev: str | None) -> list[Tracked]:
        if rev is None:
            return tracked_in_tree(self.context, relpaths)
        return tracked_at(self.context, self.commit_of(rev), relpaths)

    # -- adding -----------------------------------------------------------------------------
    def add(self, paths: Sequence[StrPath], *, progress: Progress = no_progress) -> list[AddResult]:
        """Track files or folders: contents into the cache, a pointer beside each.

        The metadata database (where each version is recorded) is opened on a thread while
        the files are stored: its import and schema check overlap the copying."""
        from strata.files.add import add_paths

        relpaths = self.relpaths(paths)
        database = Background(self._database_for_records, name="strata-open-database")
        try:
            results = add_paths(
                self.context,
                relpaths,
                before_commit=lambda added: self._record(added, database.result()),
                progress=progress,
            )
        finally:
            database.wait()
        if self._activity.run_id() is not None:
            for r in results:
                self._activity.wrote(f"file:{r.path}@{r.hash[:12]}")
        return results

    def _database_for_records(self) -> MetadataDB:
        """The metadata database, with the code that records a file version loaded."""
        import strata.meta.file_versions  # noqa: F401 - loaded here, off the adding thread

        return self._db()

    def _record(self, results: Sequence[AddResult], db: MetadataDB) -> None:
        from strata.meta import FileVersion

        db.record_file_versions(
            FileVersion(r.path, r.hash, r.kind, r.size, r.files) for r in results
        )

    def record(self, relpath: str) -> None:
        """Remember the version a pointer names now, as ``add`` does, so hash-prefix refs
        find it (imports and updates call this)."""
        from strata.meta import FileVersion

        p = tracked_in_tree(self.context, [relpath])[0].pointer
        self._db().record_file_versions([FileVersion(relpath, p.hash, p.kind, p.size, p.files)])

    def versions(self, path: StrPath | None = None) -> list[FileVersion]:
        """Every version of tracked paths this workspace has added (for lineage)."""
        return self._db().file_versions(None if path is None else self.relpath(path))

    # -- reading the state ------------------------------------------------------------------
    def status(self, paths: Sequence[StrPath] = ()) -> list[PathStatus]:
        """How each tracked path in the workspace differs from its pointer."""
        tracked = tracked_in_tree(self.context, self.relpaths(paths))
        return [file_status.path_status(self.context, t) for t in tracked]

    def diff(
        self,
        rev_a: str | None = None,
        rev_b: str | None = None,
        paths: Sequence[StrPath] = (),
    ) -> list[DiffEntry]:
        """Files added, modified and deleted from ``rev_a`` (default HEAD) to ``rev_b``
        (default: the workspace as it is now)."""
        from strata.files import diff as file_diff

        ctx = self.context
        relpaths = self.relpaths(paths)
        old = tracked_at(ctx, self.commit_of(rev_a or "HEAD"))
        new = tracked_in_tree(ctx) if rev_b is None else tracked_at(ctx, self.commit_of(rev_b))
        skip = file_diff.unchanged(old, new) if rev_b is not None else set()
        before = file_diff.files_recorded(ctx, old, skip)
        if rev_b is None:
            after = file_diff.files_in_workspace(ctx, new, skip)
        else:
            after = file_diff.files_recorded(ctx, new, skip)
        entries = file_diff.compare(before, after)
        if relpaths:
            entries = [e for e in entries if any(_within(e.path, p) for p in relpaths)]
        return entries

    def split_revisions(self, args: Sequence[str], *, most: int = 2) -> tuple[list[str], list[str]]:
        """Split ``[REV_A [REV_B]] [PATH]...``: leading arguments that name git revisions are
        revisions; the rest are paths."""
        revs: list[str] = []
        for index, arg in enumerate(args):
            if len(revs) == most or self.context.git is None or not self._is_revision(arg):
                rest = list(args[index:])
                self.relpaths(rest)  # refuses paths outside the workspace
                return revs, rest
            revs.append(arg)
        return revs, []

    def _is_revision(self, text: str) -> bool:
        assert self.context.git is not None
        try:
            self.context.git.resolve(text)
        except RevisionNotFoundError:
            if not (Path.cwd() / text).exists() and not (self.root / text).exists():
                raise RevisionNotFoundError(
                    f"git revision {text!r} does not exist, and no such path either"
                ) from None
            return False
        return True

    # -- checking out -----------------------------------------------------------------------
    def checkout(
        self,
        paths: Sequence[StrPath] = (),
        *,
        rev: str | None = None,
        force: bool = False,
        progress: Progress = no_progress,
    ) -> list[CheckoutResult]:
        """Restore tracked data from its pointers, or from the pointers at git ``rev``.

        A path may be a ref, ``file:data/raw@HEAD~1`` (a git revision) or
        ``file:data/raw@433c66d6`` (a content-hash prefix of a version added earlier).
        """
        from strata.files.checkout import checkout

        plain, refs = _split_file_refs(paths)
        relpaths = self.relpaths(plain)
        targets = [self.tracked_for_ref(ref, rev) for ref in refs]
        if relpaths or not refs:
            targets += self._tracked(relpaths, rev)
        write = rev is not None or bool(refs)
        return checkout(self.context, targets, force=force, write_pointers=write, progress=progress)

    def tracked_for_ref(self, ref: Ref, rev: str | None = None) -> Tracked:
        """The pointer a ``file:`` ref names: the working tree's, a git revision's, or a
        version added earlier, by content-hash prefix."""
        relpath = self.relpath(ref.name, cwd=self.root)
        if ref.selector is None:
            return self._tracked([relpath], rev)[0]
        text = str(ref.selector)
        if rev is not None and rev != text:
            raise UserInputError(f"{ref} names revision {text!r} but --rev says {rev!r}")
        try:
            return tracked_at(self.context, self.commit_of(text), [relpath])[0]
        except RevisionNotFoundError:
            found = self._version_by_hash(relpath, text)
            if found is None:
                raise
            return found

    def _version_by_hash(self, relpath: str, prefix: str) -> Tracked | None:
        """The version of ``relpath`` added earlier whose hash starts with ``prefix``."""
        if len(prefix) < 4 or any(c not in "0123456789abcdef" for c in prefix):
            return None
        matches = [v for v in self.versions(relpath) if v.hash.startswith(prefix)]
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

    def import_dvc(
        self,
        *,
        remotes: Sequence[Path] = (),
        dry_run: bool = False,
        keep_dvc: bool = False,
        all_commits: bool = False,
        revisions: Sequence[str] = (),
        progress: Progress = no_progress,
    ) -> DvcImportResult:
        """Bring the data of the DVC repository here into the cache, md5-checked, with a
        pointer per output (``.dvc`` files removed unless ``keep_dvc``); objects the DVC
        cache lacks come from the folder ``remotes``, in order. With ``all_commits``, the
        outputs of every commit on a branch or tag too, so ``checkout --rev`` restores them;
        else those of the commits ``revisions`` names. ``progress`` counts objects and the
        bytes read (none in a dry run)."""
        from strata.files.dvc_history import history_outs
        from strata.files.dvc_import import DvcImporter, discover_outs, import_outs
        from strata.files.dvc_repo import cache_dir, require_repo

        require_repo(self.root)
        by_file, lock_outs = discover_outs(self.root)
        git = self.context.git
        history: list[DvcOut] = []
        if git is not None and (all_commits or revisions):
            history = history_outs(git, None if all_commits else list(revisions))
        importer = DvcImporter(self.context, cache_dir(self.root), remotes)
        return import_outs(
            importer,
            by_file,
            lock_outs,
            dry_run=dry_run,
            keep_dvc=keep_dvc,
            record=self.record,
            progress=progress,
            history=history,
        )

    # -- the cache --------------------------------------------------------------------------
    def gc(
        self,
        *,
        workspace_only: bool = False,
        dry_run: bool = False,
        force: bool = False,
        progress: Progress = no_progress,
    ) -> GcResult:
        """Remove cached objects that no pointer needs, on any branch or tag by default."""
        from strata.files import gc as file_gc

        return file_gc.collect(
            self.context,
            all_refs=not workspace_only,
            dry_run=dry_run,
            force=force,
            also_keep=self._also_keep(),
            progress=progress,
        )

    def verify(self, *, progress: Progress = no_progress) -> VerifyResult:
        """Re-hash every cached object; report corrupt and missing ones by name."""
        from strata.files import verify as file_verify

        return file_verify.verify(self.context, progress)


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
