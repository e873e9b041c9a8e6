"""``status``: how the workspace differs from what its pointers say."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from strata.errors import ObjectMissingError
from strata.files.context import FilesContext
from strata.files.discover import Tracked
from strata.files.scan import folder_hash, scan_file, scan_folder
from strata.objects.tree import Tree, TreeEntry

State = Literal["unchanged", "modified", "missing"]


@dataclass(frozen=True, slots=True)
class TreeChanges:
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()

    @classmethod
    def between(cls, old: Mapping[str, TreeEntry], new: Mapping[str, TreeEntry]) -> TreeChanges:
        return cls(
            added=tuple(sorted(new.keys() - old.keys())),
            modified=tuple(
                sorted(p for p in old.keys() & new.keys() if old[p].hash != new[p].hash)
            ),
            deleted=tuple(sorted(old.keys() - new.keys())),
        )


@dataclass(frozen=True, slots=True)
class PathStatus:
    path: str
    kind: str
    state: State
    changes: TreeChanges = field(default_factory=TreeChanges)
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"path": self.path, "kind": self.kind, "state": self.state}
        if self.kind == "directory" and self.state == "modified":
            out.update(
                added=list(self.changes.added),
                modified=list(self.changes.modified),
                deleted=list(self.changes.deleted),
            )
        if self.detail:
            out["detail"] = self.detail
        return out


def path_status(ctx: FilesContext, tracked: Tracked) -> PathStatus:
    pointer, path = tracked.pointer, ctx.abspath(tracked.path)
    if not path.exists():
        return PathStatus(tracked.path, pointer.kind, "missing")
    if pointer.kind == "file":
        if not path.is_file():
            return PathStatus(tracked.path, "file", "modified", detail="now a folder")
        same = scan_file(ctx, path).hash == pointer.hash
        return PathStatus(tracked.path, "file", "unchanged" if same else "modified")
    if not path.is_dir():
        return PathStatus(tracked.path, "directory", "modified", detail="now a file")
    digest, tree = folder_hash(ctx, path)
    if digest == pointer.hash:
        return PathStatus(tracked.path, "directory", "unchanged")
    if tree is None:  # unchanged since last hashed, but not what the pointer says
        tree, _ = scan_folder(ctx, path)
    return _folder_changes(ctx, tracked, tree)


def _folder_changes(ctx: FilesContext, tracked: Tracked, now: Tree) -> PathStatus:
    try:
        data = ctx.store.read_bytes(tracked.pointer.hash, what=f"the listing of {tracked.path}")
    except ObjectMissingError:
        return PathStatus(
            tracked.path, "directory", "modified", detail="listing not in cache; `strata pull`"
        )
    old = Tree.from_bytes(data, what=tracked.path)
    changes = TreeChanges.between(old.by_path(), now.by_path())
    return PathStatus(tracked.path, "directory", "modified", changes)
