"""``add``: put files and folders into the cache and write their pointers."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from strata.core.progress import Progress, advance, expect, no_progress
from strata.errors import NotTrackedError, UserInputError
from strata.files.context import FilesContext
from strata.files.ignore import ignore_in_git
from strata.files.pointer import POINTER_SUFFIX, Kind, Pointer, pointer_path_for, write_pointer
from strata.files.scan import Listing, ScannedFile, list_inside, scan_file, scan_folder
from strata.objects.state import FileStat
from strata.objects.store import Incoming, translate_os_error
from strata.parallel import check_cancelled
from strata.paths import shown, unsafe_reason

# From this size a file is hashed while it is copied into the cache, not before.
HASH_WHILE_COPYING_SIZE = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class AddResult:
    path: str
    kind: Kind
    hash: str
    size: int
    files: int
    new_objects: int
    link_type: str | None

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind,
            "hash": self.hash,
            "size": self.size,
            "files": self.files,
            "new_objects": self.new_objects,
            "link_type": self.link_type,
        }


BeforeCommit = Callable[[Sequence[AddResult]], None]


def check_addable(ctx: FilesContext, relpath: str) -> None:
    path = ctx.abspath(relpath)
    if relpath == ".":
        raise UserInputError("cannot track the whole workspace", hint="name a file or folder")
    reason = unsafe_reason(relpath)
    if reason is not None:
        raise UserInputError(
            f"cannot track {shown(relpath)}: {reason}",
            hint="rename it; a tracked path is written into its pointer and .gitignore",
        )
    if relpath.endswith(POINTER_SUFFIX):
        raise UserInputError(f"{relpath} is a pointer file", hint="name the data path instead")
    if path.is_symlink():
        raise UserInputError(f"{relpath} is a symlink", hint="track the file it points to")
    ctx.check_inside(relpath, "add")
    if not path.exists():
        raise NotTrackedError(f"{relpath} does not exist", hint="check the path")
    parent = posixpath.dirname(relpath)
    while parent:
        if ctx.abspath(parent + POINTER_SUFFIX).exists():
            raise UserInputError(
                f"{relpath} is inside the tracked folder {parent}",
                hint=f"add the folder again with `strata add {parent}`",
            )
        parent = posixpath.dirname(parent)


def _check_names(relpath: str, listing: Listing) -> None:
    """Refuse, before anything is cached, a name the folder listing could not be read back
    with; a tab or a newline is fine, a backslash is not."""
    for rel, _, _ in listing:
        reason = unsafe_reason(rel, any_name=True)
        if reason is not None:
            raise UserInputError(
                f"cannot add {shown(relpath + '/' + rel)}: {reason}", hint="rename it"
            )


def _store_all(
    ctx: FilesContext, files: Sequence[ScannedFile], where: str, *, folder: bool
) -> tuple[int, str]:
    incoming = [
        Incoming(f.path, f.hash, f.stat, posixpath.join(where, f.relpath) if folder else where)
        for f in files
    ]
    placed = [link for link in ctx.store.add_files(incoming, ctx.jobs) if link is not None]
    return len(placed), (placed[0] if placed else "")


def _add_one(ctx: FilesContext, relpath: str, progress: Progress) -> AddResult:
    path = ctx.abspath(relpath)
    if path.is_dir():
        listing = list_inside(ctx, relpath, "add", files_only=True)
        _check_names(relpath, listing)
        tree, scanned = scan_folder(ctx, path, progress, listing=listing)
        new, link = _store_all(ctx, scanned, relpath, folder=True)
        tree_hash = ctx.store.add_bytes(tree.to_bytes(), what=f"the listing of {relpath}")
        return AddResult(
            relpath, "directory", tree_hash, tree.size, len(tree.entries), new, link or None
        )
    stat = FileStat.of(path.stat())
    if stat.size >= HASH_WHILE_COPYING_SIZE and ctx.state.get(stat) is None:
        expect(progress, 1, stat.size)
        digest, link_type = ctx.store.add_file_hashing(path, stat, what=relpath)
        ctx.state.save([(stat, digest)])
        advance(progress, 1, stat.size)
        new = int(link_type is not None)
        return AddResult(relpath, "file", digest, stat.size, 1, new, link_type)
    scanned_file = scan_file(ctx, path, progress)
    new, link = _store_all(ctx, [scanned_file], relpath, folder=False)
    return AddResult(
        relpath, "file", scanned_file.hash, scanned_file.stat.size, 1, new, link or None
    )


def add_paths(
    ctx: FilesContext,
    relpaths: Sequence[str],
    *,
    before_commit: BeforeCommit | None = None,
    progress: Progress = no_progress,
) -> list[AddResult]:
    """Track ``relpaths``: objects first, then pointers, so a crash never leaves a pointer
    to content that is not in the cache."""
    for relpath in relpaths:
        check_addable(ctx, relpath)
    results = [_add_one(ctx, r, progress) for r in dict.fromkeys(relpaths)]
    check_cancelled()
    if before_commit is not None:
        before_commit(results)
    for result in results:
        data_path = ctx.abspath(result.path)
        pointer = Pointer(
            path=data_path.name,
            kind=result.kind,
            hash=result.hash,
            size=result.size,
            files=result.files,
        )
        try:
            write_pointer(pointer_path_for(data_path), pointer)
            if ctx.git is not None:
                ignore_in_git(data_path)
        except OSError as exc:
            raise translate_os_error(exc, f"writing the pointer for {result.path}") from exc
    return results
