"""Hashing what is in the workspace now, asking the state cache first."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from strata.core.progress import Progress as Progress  # the files operations take it from here
from strata.core.progress import advance, expect, no_progress
from strata.errors import StorageError, UserInputError
from strata.files.context import FilesContext
from strata.objects.hashing import hash_bytes, hash_fd, hash_file
from strata.objects.state import FileStat, ObjectStat
from strata.objects.tree import Tree, TreeEntry
from strata.parallel import parallel_map
from strata.paths import shown

TMP_MARK = ".strata-tmp"
# (path relative to the scanned folder, full path, stat) of every file found
Listing = list[tuple[str, str, FileStat]]


@dataclass(frozen=True, slots=True)
class ScannedFile:
    relpath: str  # relative to the scanned folder
    path: str
    stat: FileStat
    hash: str


def list_files(
    folder: Path, leftovers: list[Path] | None = None, links: list[str] | None = None
) -> Listing:
    """Every regular file below ``folder`` with its stat; symlinks to files are followed,
    symlinked folders are not descended into.

    Temp files of an interrupted checkout are skipped, and collected in ``leftovers``; every
    symlink met (to a file, a folder or nothing) is collected in ``links``, so the caller can
    check where it leads before anything is read."""
    found: Listing = []
    stack: list[tuple[str, str]] = [("", os.fspath(folder))]
    while stack:
        rel, path = stack.pop()
        for entry in os.scandir(path):
            child = f"{rel}/{entry.name}" if rel else entry.name
            if links is not None and entry.is_symlink():
                links.append(child)
            if entry.is_dir(follow_symlinks=False):
                stack.append((child, entry.path))
            elif entry.name.endswith(TMP_MARK):
                if leftovers is not None:
                    leftovers.append(Path(entry.path))
            elif entry.is_file():
                found.append((child, entry.path, FileStat.of(entry.stat())))
    return found


def list_inside(
    ctx: FilesContext,
    relpath: str,
    doing: str,
    leftovers: list[Path] | None = None,
    *,
    files_only: bool = False,
) -> Listing:
    """The files below the workspace folder ``relpath``, refusing by name, before any file is
    read, a symlink on the way or inside that leads out of the workspace.

    With ``files_only`` (what ``add`` records), a symlink is followed only to a regular file
    inside the workspace: one to a folder or to nothing is refused too, never skipped."""
    ctx.check_inside(relpath, doing)
    links: list[str] = []
    items = _list(ctx.abspath(relpath), leftovers, links)
    for link in links:
        where = f"{relpath}/{link}"
        ctx.check_inside(where, doing)
        target = ctx.abspath(where)
        if files_only and not target.is_file():
            what = "a folder" if target.is_dir() else "nothing"
            raise UserInputError(
                f"cannot {doing} {shown(where)}: it is a symlink to {what}",
                hint="Strata follows symlinks to files only: remove it, or put the files there",
            )
    return items


def hash_many(
    ctx: FilesContext,
    items: Listing,
    progress: Progress = no_progress,
) -> list[ScannedFile]:
    """Hash the files the state cache does not know, on ``ctx.jobs`` threads. ``progress``
    expects every file and the bytes to hash; the known files are done at once."""
    known = ctx.state.lookup([st for _, _, st in items])
    todo = [(rel, path, st) for rel, path, st in items if st not in known]
    expect(progress, len(items), sum(st.size for _, _, st in todo))
    advance(progress, len(items) - len(todo))

    def work(item: tuple[str, str, FileStat]) -> str:
        digest = hash_file(item[1], item[2].size)
        advance(progress, 1, item[2].size)
        return digest

    try:
        digests = parallel_map(work, todo, ctx.jobs)
    except OSError as exc:
        raise StorageError(f"cannot read {exc.filename}: {exc.strerror}") from exc
    fresh = {st: d for (_, _, st), d in zip(todo, digests, strict=True)}
    ctx.state.save(fresh.items())
    known.update(fresh)
    return [ScannedFile(rel, path, st, known[st]) for rel, path, st in items]


def scan_file(ctx: FilesContext, path: Path, progress: Progress = no_progress) -> ScannedFile:
    item = (path.name, os.fspath(path), FileStat.of(path.stat()))
    return hash_many(ctx, [item], progress)[0]


def _signature(items: Listing) -> str:
    """A digest of every file's (path, inode, mtime, size), in walk order: a different order
    only costs a full scan, never a wrong answer."""
    lines = [f"{rel}\0{st.inode}\0{st.mtime_ns}\0{st.size}" for rel, _, st in items]
    return hash_bytes("\n".join(lines).encode("utf-8", "surrogateescape"))


def _list(
    folder: Path, leftovers: list[Path] | None = None, links: list[str] | None = None
) -> Listing:
    try:
        return list_files(folder, leftovers, links)
    except OSError as exc:
        raise StorageError(f"cannot list {folder}: {exc.strerror}") from exc


def scan_folder(
    ctx: FilesContext,
    folder: Path,
    progress: Progress = no_progress,
    leftovers: list[Path] | None = None,
    *,
    listing: Listing | None = None,
) -> tuple[Tree, list[ScannedFile]]:
    items = _list(folder, leftovers) if listing is None else listing
    scanned = hash_many(ctx, items, progress)
    tree = Tree.build(TreeEntry(f.relpath, f.hash, f.stat.size) for f in scanned)
    ctx.state.save_folder(os.fspath(folder), _signature(items), tree.hash)
    return tree, scanned


def folder_hash(ctx: FilesContext, folder: Path) -> tuple[str, Tree | None]:
    """The listing hash of ``folder`` as it is now, and its listing when it had to be built.

    When no file was added, removed or touched since the folder was last hashed, the answer
    comes from one state-cache row: a status check then costs a directory walk."""
    items = _list(folder)
    known = ctx.state.folder_hash(os.fspath(folder), _signature(items))
    if known is not None:
        return known, None
    tree, _ = scan_folder(ctx, folder, listing=items)
    return tree.hash, tree


def verify_objects(ctx: FilesContext, names: Sequence[str]) -> list[str]:
    """The cached objects among ``names`` whose contents no longer match their hash.

    An object is read unless the state cache vouches for it: verified before and, by its
    inode, size, mtime and ctime, not written or replaced since. Bit rot that leaves the
    stat alone is for ``strata verify``, which reads everything."""
    unique = sorted(set(names))
    vouched = ctx.state.verified(unique)
    fresh: list[tuple[str, ObjectStat]] = []

    def intact(name: str) -> bool:
        fd = os.open(ctx.store.path(name), os.O_RDONLY | os.O_CLOEXEC)
        try:
            st = os.fstat(fd)
            known = vouched.get(name)
            if known is not None and known.matches(st):
                return True
            if hash_fd(fd, st.st_size) != name:
                return False
        finally:
            os.close(fd)
        fresh.append((name, ObjectStat.of(st)))
        return True

    try:
        results = parallel_map(intact, unique, ctx.jobs)
    except OSError as exc:
        raise StorageError(f"cannot read cached object {exc.filename}: {exc.strerror}") from exc
    finally:
        ctx.state.save_verified(fresh)
    return [n for n, good in zip(unique, results, strict=True) if not good]
