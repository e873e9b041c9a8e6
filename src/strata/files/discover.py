"""Finding pointer files: in the working tree, or at a git revision."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from strata.errors import NotTrackedError, PointerError
from strata.files.context import RESERVED_DIRS, FilesContext
from strata.files.dvc_history import migrated_map, pointers_at
from strata.files.pointer import POINTER_SUFFIX, Pointer
from strata.objects.tree import Tree
from strata.paths import unsafe_reason

_SKIP_DIRS = RESERVED_DIRS | {".venv", "venv", "node_modules", "__pycache__"}


@dataclass(frozen=True, slots=True)
class Tracked:
    """One tracked path: where its pointer is and what the pointer says."""

    pointer_file: str
    pointer: Pointer

    @property
    def path(self) -> str:
        """The data's workspace-relative path."""
        folder = posixpath.dirname(self.pointer_file)
        return posixpath.join(folder, self.pointer.path) if folder else self.pointer.path


def load_tracked(pointer_file: str, text: bytes, *, rev: str | None = None) -> Tracked:
    where = f"{pointer_file}@{rev}" if rev else pointer_file
    tracked = Tracked(pointer_file, Pointer.from_text(text, where=where))
    reason = unsafe_reason(tracked.path)
    if reason:
        raise PointerError(f"pointer {where} names an unsafe path: {reason}")
    return tracked


def pointer_files_in_tree(ctx: FilesContext) -> list[str]:
    """Pointer files in the working tree; tracked folders are not descended into."""
    found: list[str] = []
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            entries = list(os.scandir(ctx.root / rel))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        names = {e.name for e in entries}
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            if entry.name.endswith(POINTER_SUFFIX) and entry.name != POINTER_SUFFIX:
                if entry.is_file():
                    found.append(child)
            elif (
                entry.is_dir(follow_symlinks=False)
                and entry.name not in _SKIP_DIRS
                and entry.name + POINTER_SUFFIX not in names
            ):
                stack.append(child)
    return sorted(found)


def tracked_in_tree(ctx: FilesContext, paths: Iterable[str] = ()) -> list[Tracked]:
    """The tracked paths of the working tree, all or the ones named (workspace-relative)."""
    wanted = list(paths)
    files = [_pointer_file_of(ctx, p) for p in wanted] if wanted else pointer_files_in_tree(ctx)
    return [load_tracked(f, _read(ctx, f)) for f in files]


def _pointer_file_of(ctx: FilesContext, relpath: str) -> str:
    pointer_file = relpath if relpath.endswith(POINTER_SUFFIX) else relpath + POINTER_SUFFIX
    if not (ctx.root / pointer_file).is_file():
        raise NotTrackedError(f"{relpath} is not tracked (no {pointer_file})")
    return pointer_file


def _read(ctx: FilesContext, pointer_file: str) -> bytes:
    try:
        return (ctx.root / pointer_file).read_bytes()
    except OSError as exc:
        raise PointerError(f"cannot read pointer {pointer_file}: {exc.strerror}") from exc


def tracked_at(ctx: FilesContext, commit: str, paths: Iterable[str] = ()) -> list[Tracked]:
    """The tracked paths recorded in git at ``commit`` (a resolved commit id)."""
    assert ctx.git is not None
    all_files = ctx.git.files_at(commit, POINTER_SUFFIX)
    legacy = pointers_at(migrated_map(ctx.root), ctx.git, commit, set(all_files))
    all_files = sorted([*all_files, *legacy])
    wanted = list(paths)
    if wanted:
        names = {p if p.endswith(POINTER_SUFFIX) else p + POINTER_SUFFIX for p in wanted}
        files = [f for f in all_files if f in names]
        missing = names - set(files)
        if missing:
            raise NotTrackedError(
                f"{sorted(missing)[0]} does not exist at revision {commit[:10]}",
                hint="check the path, or the revision with `git log -- PATH.strata`",
            )
    else:
        files = [f for f in all_files if posixpath.basename(f) != POINTER_SUFFIX]
    contents = ctx.git.read_at(commit, [f for f in files if f not in legacy])
    return [
        Tracked(f, legacy[f]) if f in legacy else load_tracked(f, contents[f], rev=commit[:10])
        for f in files
        if f in contents or f in legacy
    ]


def load_tree(ctx: FilesContext, digest: str, what: str) -> Tree:
    """The folder listing object ``digest`` from the cache (verified as it is read)."""
    return Tree.from_bytes(ctx.store.read_bytes(digest, what=what), what=what)
