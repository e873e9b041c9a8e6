"""``diff``: files added, modified and deleted between two versions of the tracked data."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from strata.files.context import FilesContext
from strata.files.discover import Tracked, load_tree
from strata.files.scan import scan_file, scan_folder
from strata.objects.tree import Tree, TreeEntry

Change = Literal["added", "modified", "deleted"]


@dataclass(frozen=True, slots=True)
class DiffEntry:
    path: str
    change: Change
    old_hash: str | None
    new_hash: str | None
    old_size: int | None
    new_size: int | None

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "change": self.change,
            "old_hash": self.old_hash,
            "new_hash": self.new_hash,
            "old_size": self.old_size,
            "new_size": self.new_size,
        }


# One side of a diff: every tracked file, flattened to path → (hash, size).
Files = dict[str, tuple[str, int]]


def _tree(ctx: FilesContext, tracked: Tracked) -> Tree:
    what = f"the listing of {tracked.path}"
    return load_tree(ctx, tracked.pointer.hash, what)


def _flatten(base: str, entries: Sequence[TreeEntry]) -> Files:
    return {posixpath.join(base, e.path): (e.hash, e.size) for e in entries}


def files_recorded(
    ctx: FilesContext, tracked: Sequence[Tracked], skip: set[tuple[str, str]]
) -> Files:
    """What the pointers say, folders expanded from their listings in the cache."""
    files: Files = {}
    for t in tracked:
        if (t.path, t.pointer.hash) in skip:
            continue
        if t.pointer.kind == "file":
            files[t.path] = (t.pointer.hash, t.pointer.size)
        else:
            files.update(_flatten(t.path, _tree(ctx, t).entries))
    return files


def files_in_workspace(
    ctx: FilesContext, tracked: Sequence[Tracked], skip: set[tuple[str, str]]
) -> Files:
    """What is on disk for each tracked path; a path not checked out counts as its pointer."""
    files: Files = {}
    for t in tracked:
        path = ctx.abspath(t.path)
        if t.pointer.kind == "file" and path.is_file():
            scanned = scan_file(ctx, path)
            if (t.path, scanned.hash) not in skip:
                files[t.path] = (scanned.hash, scanned.stat.size)
        elif t.pointer.kind == "directory" and path.is_dir():
            tree, _ = scan_folder(ctx, path)
            if (t.path, tree.hash) not in skip:
                files.update(_flatten(t.path, tree.entries))
        elif not path.exists():
            files.update(files_recorded(ctx, [t], skip))
    return files


def compare(old: Files, new: Files) -> list[DiffEntry]:
    entries: list[DiffEntry] = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        change: Change = "added" if before is None else "deleted" if after is None else "modified"
        entries.append(
            DiffEntry(
                path,
                change,
                before[0] if before else None,
                after[0] if after else None,
                before[1] if before else None,
                after[1] if after else None,
            )
        )
    return entries


def unchanged(old: Sequence[Tracked], new: Sequence[Tracked]) -> set[tuple[str, str]]:
    """(path, hash) of tracked paths identical on both sides: no need to expand them."""
    return {(t.path, t.pointer.hash) for t in old} & {(t.path, t.pointer.hash) for t in new}
