"""Hashing what is in the workspace now, asking the state cache first."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from strata.errors import StorageError
from strata.files.context import FilesContext
from strata.objects.hashing import hash_file
from strata.objects.state import FileStat
from strata.objects.tree import Tree, TreeEntry

TMP_MARK = ".strata-tmp"
Progress = Callable[[int], None]


def _no_progress(_: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class ScannedFile:
    relpath: str  # relative to the scanned folder
    path: Path
    stat: FileStat
    hash: str


def list_files(
    folder: Path, leftovers: list[Path] | None = None
) -> list[tuple[str, Path, FileStat]]:
    """Every regular file below ``folder`` with its stat; symlinks to files are followed.

    Temp files of an interrupted checkout are skipped, and collected in ``leftovers``."""
    found: list[tuple[str, Path, FileStat]] = []
    stack: list[tuple[str, str]] = [("", os.fspath(folder))]
    while stack:
        rel, path = stack.pop()
        for entry in os.scandir(path):
            child = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=False):
                stack.append((child, entry.path))
            elif entry.name.endswith(TMP_MARK):
                if leftovers is not None:
                    leftovers.append(Path(entry.path))
            elif entry.is_file():
                found.append((child, Path(entry.path), FileStat.of(entry.stat())))
    return found


def hash_many(
    ctx: FilesContext,
    items: list[tuple[str, Path, FileStat]],
    progress: Progress = _no_progress,
) -> list[ScannedFile]:
    """Hash the files the state cache does not know, on ``ctx.jobs`` threads."""
    known = ctx.state.lookup([st for _, _, st in items])
    todo = [(rel, path, st) for rel, path, st in items if st not in known]
    progress(len(items) - len(todo))

    def work(item: tuple[str, Path, FileStat]) -> str:
        digest = hash_file(item[1], item[2].size)
        progress(1)
        return digest

    try:
        if len(todo) > 1 and ctx.jobs > 1:
            with ThreadPoolExecutor(ctx.jobs) as pool:
                digests = list(pool.map(work, todo))
        else:
            digests = [work(item) for item in todo]
    except OSError as exc:
        raise StorageError(f"cannot read {exc.filename}: {exc.strerror}") from exc
    fresh = {st: d for (_, _, st), d in zip(todo, digests, strict=True)}
    ctx.state.save(fresh.items())
    known.update(fresh)
    return [ScannedFile(rel, path, st, known[st]) for rel, path, st in items]


def scan_file(ctx: FilesContext, path: Path) -> ScannedFile:
    return hash_many(ctx, [(path.name, path, FileStat.of(path.stat()))])[0]


def scan_folder(
    ctx: FilesContext,
    folder: Path,
    progress: Progress = _no_progress,
    leftovers: list[Path] | None = None,
) -> tuple[Tree, list[ScannedFile]]:
    try:
        items = list_files(folder, leftovers)
    except OSError as exc:
        raise StorageError(f"cannot list {folder}: {exc.strerror}") from exc
    scanned = hash_many(ctx, items, progress)
    tree = Tree.build(TreeEntry(f.relpath, f.hash, f.stat.size) for f in scanned)
    return tree, scanned


def verify_objects(ctx: FilesContext, names: Sequence[str]) -> list[str]:
    """The cached objects among ``names`` whose contents no longer match their hash.

    An object whose (inode, mtime, size) the state cache vouches for is not read again, so
    verifying before every checkout costs a stat per object, not a read.
    """
    unique = sorted(set(names))
    try:
        stats = {n: FileStat.of(os.stat(ctx.store.path(n))) for n in unique}
    except OSError as exc:
        raise StorageError(f"cannot read cached object {exc.filename}: {exc.strerror}") from exc
    known = ctx.state.lookup(list(stats.values()))
    todo = [(n, ctx.store.path(n), st) for n, st in stats.items() if known.get(st) != n]
    scanned = hash_many(ctx, todo) if todo else []
    return [f.relpath for f in scanned if f.hash != f.relpath]
