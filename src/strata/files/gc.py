"""``gc``: remove cache objects that no pointer needs (``gc --cloud``, the same on a remote,
is in ``strata.files.gc_cloud``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from strata.core.progress import Progress, advance, expect, no_progress
from strata.errors import ObjectMissingError
from strata.files.context import FilesContext
from strata.files.discover import Tracked, tracked_at, tracked_in_tree
from strata.objects.hashing import hash_bytes
from strata.objects.tree import Tree


@dataclass(frozen=True, slots=True)
class GcResult:
    removed: tuple[str, ...]
    bytes_freed: int
    kept: int
    revisions: tuple[str, ...]
    dry_run: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "removed": list(self.removed),
            "bytes_freed": self.bytes_freed,
            "kept": self.kept,
            "revisions": list(self.revisions),
            "dry_run": self.dry_run,
        }


def needed_objects(
    ctx: FilesContext,
    tracked: Iterable[Tracked],
    *,
    force: bool,
    fallback: Callable[[str, str], bytes] | None = None,
) -> set[str]:
    """Every object the given pointers need: files, listings and the files listed. A listing
    missing from the cache comes from ``fallback(name, what)`` when one is given."""
    needed: set[str] = set()
    for t in tracked:
        if t.pointer.hash in needed:
            continue
        needed.add(t.pointer.hash)
        if t.pointer.kind != "directory":
            continue
        what = f"the listing of {t.path}"
        try:
            if fallback is not None and not ctx.store.exists(t.pointer.hash):
                data = fallback(t.pointer.hash, what)
            else:
                data = ctx.store.read_bytes(t.pointer.hash, what=what)
        except ObjectMissingError:
            if force:
                continue
            raise ObjectMissingError(
                f"the listing of {t.path} is not in the cache, so the files it lists are unknown",
                hint="`strata fetch` it first (gc also takes --force to go ahead without it)",
            ) from None
        needed.update(Tree.hashes_in(data, what=what))
    return needed


def tracked_everywhere(ctx: FilesContext, refs: Sequence[str]) -> tuple[list[Tracked], list[str]]:
    """The pointers of the working tree and of every ref named, and the revisions read."""
    tracked = tracked_in_tree(ctx)
    revisions: list[str] = ["workspace"]
    if ctx.git is not None:
        for ref in refs:
            tracked += tracked_at(ctx, ctx.git.resolve(ref))
            revisions.append(ref)
    return tracked, revisions


def collect(
    ctx: FilesContext,
    *,
    all_refs: bool = True,
    dry_run: bool = False,
    force: bool = False,
    also_keep: Sequence[str] = (),
    progress: Progress = no_progress,
) -> GcResult:
    """Remove the cached objects no pointer needs; ``progress`` expects the ones to remove
    (their bytes too), once they are known."""
    refs = ctx.git.refs() if all_refs and ctx.git is not None else []
    tracked, revisions = tracked_everywhere(ctx, refs)
    needed = needed_objects(ctx, tracked, force=force) | set(also_keep)
    doomed = [name for name in ctx.store.names() if name not in needed]
    sizes = [ctx.store.size(name) for name in doomed]
    freed = sum(sizes)
    if not dry_run:
        expect(progress, len(doomed), freed)
        for name, size in zip(doomed, sizes, strict=True):
            ctx.store.remove(name)
            advance(progress, 1, size)
        ctx.store.clean_tmp()
    kept = len(needed)
    return GcResult(tuple(doomed), freed, kept, tuple(revisions), dry_run)


# -- the cloud --------------------------------------------------------------------------------
def repository_id(ctx: FilesContext) -> str:
    """This repository's id on remotes: its root commit, the same in every clone; without
    git or commits, a hash of the workspace's path."""
    if ctx.git is not None:
        roots = ctx.git.root_commits()
        if roots:
            return min(roots)
    return hash_bytes(os.fsencode(ctx.root.resolve()))[:40]
