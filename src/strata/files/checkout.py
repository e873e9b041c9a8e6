"""``checkout``: make the workspace match pointers, never discarding unsaved work silently.

Every check runs before the first write: a missing object or a file whose content exists
nowhere else stops the whole checkout with nothing changed. Each file is then replaced
atomically (written beside it, renamed over it), and a folder not there at all appears whole
(filled in a temp folder beside it, renamed into place), so an interrupted checkout leaves
every file either old or new, and running it again finishes the job.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from strata.core.progress import Progress, advance, expect, no_progress
from strata.errors import ObjectCorruptError, ObjectMissingError, UncommittedChangesError
from strata.files.context import FilesContext
from strata.files.discover import Tracked, load_tree
from strata.files.ignore import ignore_in_git
from strata.files.pointer import write_pointer
from strata.files.scan import TMP_MARK, list_inside, scan_file, scan_folder, verify_objects
from strata.files.staging import (
    Staged,
    Write,
    make_folders,
    remove_folders,
    rename_staged,
    stage_writes,
)
from strata.objects.state import FileStat
from strata.objects.store import translate_os_error
from strata.parallel import parallel_map
from strata.paths import shown


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    path: str
    kind: str
    written: int
    removed: int

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind,
            "written": self.written,
            "removed": self.removed,
        }


@dataclass
class _Plan:
    tracked: Tracked
    writes: list[Write] = field(default_factory=list)
    removals: list[Path] = field(default_factory=list)
    clear: Path | None = None  # a file or folder in the way, removed first
    unsaved: list[str] = field(default_factory=list)  # paths whose content is nowhere else
    missing: list[str] = field(default_factory=list)  # objects not in the cache
    staged: list[Staged] = field(default_factory=list)  # writes verified in temp files
    whole: str | None = None  # a new folder staged whole, beside it, renamed into place at once

    def stageable(self) -> bool:
        """Whether every write can wait in a temp file beside its destination before anything
        is cleared or removed: no file or folder stands where a destination's folder goes."""
        if self.clear is not None:
            return False
        removed = {os.fspath(p) for p in self.removals}
        return not removed or not any(
            os.fspath(parent) in removed for w in self.writes for parent in Path(w.dest).parents
        )


def _unsaved_in(ctx: FilesContext, path: Path, rel: str) -> list[str]:
    """Files at ``path`` whose content the cache does not hold."""
    if path.is_dir():
        _, scanned = scan_folder(ctx, path, listing=list_inside(ctx, rel, "check out"))
        return [f"{rel}/{f.relpath}" for f in scanned if not ctx.store.exists(f.hash)]
    return [] if ctx.store.exists(scan_file(ctx, path).hash) else [rel]


def _plan_file(ctx: FilesContext, tracked: Tracked) -> _Plan:
    plan, path = _Plan(tracked), ctx.abspath(tracked.path)
    ctx.check_inside(tracked.path, "check out")
    if not ctx.store.exists(tracked.pointer.hash):
        plan.missing.append(tracked.pointer.hash)
    if path.is_dir() and not path.is_symlink():
        plan.unsaved = _unsaved_in(ctx, path, tracked.path)
        plan.clear = path
    elif path.exists():
        current = scan_file(ctx, path).hash
        if current == tracked.pointer.hash:
            return plan
        if not ctx.store.exists(current):
            plan.unsaved.append(tracked.path)
    pointer = tracked.pointer
    plan.writes.append(Write(os.fspath(path), pointer.hash, pointer.size, tracked.path))
    return plan


def _plan_folder(ctx: FilesContext, tracked: Tracked) -> _Plan:
    plan, path = _Plan(tracked), ctx.abspath(tracked.path)
    what = f"the listing of {tracked.path}"
    tree = load_tree(ctx, tracked.pointer.hash, what)
    ctx.check_inside(tracked.path, "check out")
    for folder in sorted({posixpath.dirname(e.path) for e in tree.entries} - {""}):
        ctx.check_inside(f"{tracked.path}/{folder}", "check out")
    plan.missing = ctx.store.missing(sorted({e.hash for e in tree.entries}))
    current: dict[str, str] = {}
    if path.is_dir():
        leftovers: list[Path] = []
        listing = list_inside(ctx, tracked.path, "check out", leftovers)
        _, scanned = scan_folder(ctx, path, listing=listing)
        current = {f.relpath: f.hash for f in scanned}
        plan.removals.extend(leftovers)
    elif path.exists():
        plan.unsaved = _unsaved_in(ctx, path, tracked.path)
        plan.clear = path
    base = os.fspath(path)
    for entry in tree.entries:
        have = current.pop(entry.path, None)
        if have == entry.hash:
            continue
        if have is not None and not ctx.store.exists(have):
            plan.unsaved.append(f"{tracked.path}/{entry.path}")
        plan.writes.append(Write(f"{base}/{entry.path}", entry.hash, entry.size, tracked.path))
    for rel, have in sorted(current.items()):
        if not ctx.store.exists(have):
            plan.unsaved.append(f"{tracked.path}/{rel}")
        plan.removals.append(path / rel)
    return plan


def _first(names: Sequence[str], width: int = 0) -> str:
    """'x' or 'x and 3 more', for a one-line message about many names."""
    first = names[0][:width] if width else shown(names[0])
    return f"{first} and {len(names) - 1} more" if len(names) > 1 else first


def _check(ctx: FilesContext, plans: Sequence[_Plan], *, force: bool) -> None:
    for plan in plans:
        if plan.missing:
            raise ObjectMissingError(
                f"object {_first(plan.missing, 12)} for {plan.tracked.path} is not in the cache"
            )
    for plan in plans:
        if plan.stageable():
            continue  # verified as it is staged, before anything is changed
        corrupt = verify_objects(ctx, [w.digest for w in plan.writes])
        if corrupt:
            raise ObjectCorruptError(
                f"object {_first(corrupt, 12)} for {plan.tracked.path} is corrupt in the cache"
            )
    unsaved = [p for plan in plans for p in plan.unsaved]
    if unsaved and not force:
        raise UncommittedChangesError(
            f"{_first(unsaved)} would be overwritten or removed and is saved nowhere else"
        )


def _stage_all(ctx: FilesContext, plans: Sequence[_Plan], progress: Progress) -> None:
    """Every write of the stageable plans verified in a temp file beside its destination
    (folders made first), before anything in the workspace is changed: a corrupt or missing
    object stops the checkout with the temp files (and folders made) removed.

    A folder that does not exist at all is staged whole instead: a temp folder beside it is
    filled with its files under their own names and renamed into place at once, so it appears
    complete or not at all, with one rename rather than one per file."""
    made: list[str] = []
    staged: list[Staged] = []
    todo = [plan for plan in plans if plan.stageable() and plan.writes]
    per_plan = [_staging_writes(ctx, plan) for plan in todo]
    try:
        make_folders(
            ((os.path.dirname(w.dest), stop) for stop, writes in per_plan for w in writes), made
        )
        stage_writes(ctx, [w for _, writes in per_plan for w in writes], staged, progress)
    except BaseException:
        for item in staged:
            Path(item.tmp).unlink(missing_ok=True)
        remove_folders(made)
        raise
    by_dest = {item.dest: item for item in staged}
    for plan, (_, writes) in zip(todo, per_plan, strict=True):
        plan.staged = [by_dest[w.dest] for w in writes]


def _staging_writes(ctx: FilesContext, plan: _Plan) -> tuple[str, list[Write]]:
    """Where making missing folders stops (the folder holding the tracked path), and the
    writes to stage: in a temp folder, each at its own name, for a folder not there at all."""
    root = os.fspath(ctx.abspath(plan.tracked.path))
    head, tail = os.path.split(root)
    if plan.tracked.pointer.kind != "directory" or os.path.lexists(root):
        return head, plan.writes
    plan.whole = f"{head}/.{tail}.{uuid.uuid4().hex}{TMP_MARK}"
    cut = len(root)
    return head, [replace(w, dest=plan.whole + w.dest[cut:], direct=True) for w in plan.writes]


def _unstage(plans: Sequence[_Plan]) -> None:
    """Remove the temp files and folders not renamed into place."""
    for plan in plans:
        if plan.whole is not None:
            shutil.rmtree(plan.whole, ignore_errors=True)
            continue
        for staged in plan.staged:
            Path(staged.tmp).unlink(missing_ok=True)


def _execute(ctx: FilesContext, plan: _Plan, progress: Progress) -> CheckoutResult:
    if plan.clear is not None:
        if plan.clear.is_dir():
            shutil.rmtree(plan.clear)
        else:
            plan.clear.unlink()
    for stale in plan.removals:
        stale.unlink(missing_ok=True)
    what = plan.tracked.path
    if plan.whole is not None:
        os.rename(plan.whole, ctx.abspath(what))
        ctx.state.save((item.stat, item.digest) for item in plan.staged)
        return _done(ctx, plan)
    if plan.staged:
        rename_staged(ctx, plan.staged)
        return _done(ctx, plan)

    placed_so_far: list[tuple[FileStat, str]] = []
    made_dirs: set[Path] = set()

    def place(write: Write) -> None:
        dest, digest = Path(write.dest), write.digest
        if dest.parent not in made_dirs:
            dest.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(dest.parent)
        ctx.store.checkout(digest, dest, what=what)
        placed_so_far.append((FileStat.of(os.stat(dest)), digest))
        advance(progress, 1, write.size)

    try:
        parallel_map(place, plan.writes, ctx.jobs)
    finally:
        ctx.state.save(placed_so_far)
    return _done(ctx, plan)


def _done(ctx: FilesContext, plan: _Plan) -> CheckoutResult:
    what = plan.tracked.path
    kind = plan.tracked.pointer.kind
    if kind == "directory":
        ctx.abspath(what).mkdir(parents=True, exist_ok=True)
        if plan.removals:
            _prune_empty_dirs(ctx.abspath(what))
    return CheckoutResult(what, kind, len(plan.writes), len(plan.removals))


def _prune_empty_dirs(folder: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(folder, topdown=False):
        if not dirnames and not filenames and Path(dirpath) != folder:
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


def _remove_leftovers(path: Path) -> None:
    """Remove the temp files (or temp folder) an interrupted checkout left beside ``path``."""
    for stale in path.parent.glob(f".{path.name}.*{TMP_MARK}"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale)
        else:
            stale.unlink(missing_ok=True)


def checkout(
    ctx: FilesContext,
    targets: Sequence[Tracked],
    *,
    force: bool = False,
    write_pointers: bool = False,
    progress: Progress = no_progress,
) -> list[CheckoutResult]:
    """Restore ``targets``; with ``write_pointers`` their pointer files are written first
    (checking out another revision), so an interrupted run is finished by a plain checkout.
    ``progress`` expects every file to write, and its bytes, once the plan is made."""
    plans = [
        _plan_folder(ctx, t) if t.pointer.kind == "directory" else _plan_file(ctx, t)
        for t in targets
    ]
    _check(ctx, plans, force=force)
    writes = [write for plan in plans for write in plan.writes]
    expect(progress, len(writes), sum(write.size for write in writes))
    try:
        for plan in plans:
            if plan.tracked.path not in ("", "."):
                _remove_leftovers(ctx.abspath(plan.tracked.path))
        _stage_all(ctx, plans, progress)
        try:
            if write_pointers:
                for t in targets:
                    pointer_file = ctx.abspath(t.pointer_file)
                    pointer_file.parent.mkdir(parents=True, exist_ok=True)
                    write_pointer(pointer_file, t.pointer)
                    if ctx.git is not None:
                        ignore_in_git(ctx.abspath(t.path))
            return [_execute(ctx, plan, progress) for plan in plans]
        except BaseException:
            _unstage(plans)
            raise
    except OSError as exc:
        raise translate_os_error(exc, "checking out") from exc
