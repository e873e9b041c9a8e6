"""``gc``: remove cache objects that no pointer needs; ``gc --cloud``: the same on a remote.

A remote may serve several repositories, whose refs this one cannot see. Every push therefore
writes a marker ``repos/<id>`` on the remote, where the id is the repository's root commit
(shared by all its clones). ``gc --cloud`` refuses, unless forced, when the remote holds a
marker of another repository, or holds objects but no marker of this one.

Removal order keeps the remote consistent if gc stops part-way: object manifests and plain
objects nobody needs go first, chunks that no kept manifest names after, so a manifest that
remains never names a removed chunk. Do not run it while someone pushes to the same remote: a
push that counted on a chunk being there may lose it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from strata.core.progress import Progress, advance, expect, no_progress
from strata.errors import ObjectCorruptError, ObjectMissingError, RemoteError, StrataError
from strata.files.context import FilesContext
from strata.files.discover import Tracked, load_tree, tracked_at, tracked_in_tree
from strata.objects.hashing import hash_bytes
from strata.objects.remote import Remote
from strata.objects.tree import Tree
from strata.parallel import parallel_map


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
        needed.update(e.hash for e in Tree.from_bytes(data, what=what).entries)
    return needed


def _tracked_everywhere(ctx: FilesContext, refs: Sequence[str]) -> tuple[list[Tracked], list[str]]:
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
    tracked, revisions = _tracked_everywhere(ctx, refs)
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


@dataclass(frozen=True, slots=True)
class CloudGcResult:
    remote: str
    removed: tuple[str, ...]  # objects, as whole objects or as chunk manifests
    chunks_removed: int
    bytes_freed: int
    kept: int
    revisions: tuple[str, ...]
    dry_run: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "remote": self.remote,
            "removed": list(self.removed),
            "chunks_removed": self.chunks_removed,
            "bytes_freed": self.bytes_freed,
            "kept": self.kept,
            "revisions": list(self.revisions),
            "dry_run": self.dry_run,
        }


def _check_not_shared(ctx: FilesContext, remote: Remote, markers: frozenset[str]) -> None:
    mine = repository_id(ctx)
    others = sorted(markers - {mine})
    if others:
        raise RemoteError(
            f"remote {remote.name!r} is shared: {len(others)} other repositories push to it "
            f"(first: {others[0][:12]}), and objects their refs need would look unneeded here",
            hint="run gc --cloud from each of them, or pass --force if they need nothing there",
        )
    if mine not in markers:
        raise RemoteError(
            f"remote {remote.name!r} holds objects this repository never pushed, "
            "so other repositories may need them",
            hint="push to it from here first, or pass --force if nothing else uses it",
        )


def _remote_refs(ctx: FilesContext) -> list[str]:
    """Branches, tags and remote-tracking branches: a clone's view of everyone's refs."""
    if ctx.git is None:
        return []
    return ctx.git.refs(remote_tracking=True)


def collect_remote(
    ctx: FilesContext,
    remote: Remote,
    *,
    dry_run: bool = False,
    force: bool = False,
    also_keep: Sequence[str] = (),
    jobs: int = 4,
    progress: Callable[[int], None] = lambda _: None,
) -> CloudGcResult:
    """Remove from ``remote`` what no pointer on any branch, tag, remote-tracking branch or
    the working tree needs, nor ``also_keep``; see the module docstring for the rules."""
    listing = remote.listing()
    if listing.names and not force:
        _check_not_shared(ctx, remote, listing.repositories)
    tracked, revisions = _tracked_everywhere(ctx, _remote_refs(ctx))
    on_remote = listing.names

    def listing_from_remote(name: str, what: str) -> bytes:
        if name not in on_remote:
            raise ObjectMissingError(f"{what} is missing")
        data = remote.read(name)
        if hash_bytes(data) != name:
            raise ObjectCorruptError(f"{what} on remote {remote.name!r} is corrupt")
        return data

    keep = needed_objects(ctx, tracked, force=force, fallback=listing_from_remote)
    keep |= set(also_keep) | _listed_in(ctx, remote, also_keep, listing.files)
    kept_manifests = [m for m in listing.manifests if m in keep]
    chunks: set[str] = set()
    for name in kept_manifests:
        chunks.update(c.hash for c in remote.manifest(name).chunks)
    doomed_manifests = sorted(m for m in listing.manifests if m not in keep)
    doomed_files = sorted(n for n in listing.files if n not in keep and n not in chunks)
    doomed_chunks = _chunks_of_doomed(remote, doomed_manifests) & set(doomed_files)
    freed = sum(listing.manifests[m] for m in doomed_manifests)
    freed += sum(listing.files[n] for n in doomed_files)
    if not dry_run:

        def remove_manifest(name: str) -> None:
            remote.delete(name, manifest=True)
            progress(1)

        def remove_file(name: str) -> None:
            remote.delete(name)
            progress(1)

        parallel_map(remove_manifest, doomed_manifests, jobs)  # first: see the docstring
        parallel_map(remove_file, doomed_files, jobs)
    removed = set(doomed_manifests) | (set(doomed_files) - doomed_chunks)
    return CloudGcResult(
        remote.name,
        tuple(sorted(removed)),
        len(doomed_chunks),
        freed,
        len(keep & listing.names),
        tuple(revisions),
        dry_run,
    )


_LISTING_START = b'{"format":1,"files":'


def _listed_in(
    ctx: FilesContext, remote: Remote, names: Sequence[str], plain: Mapping[str, int]
) -> set[str]:
    """The files listed by those of ``names`` that are directory listings only the remote
    holds (a registered model's folder not fetched here): kept too, or gc would strip the
    folder of its files. Recognised by their first bytes, without reading anything else."""
    listed: set[str] = set()
    for name in names:
        if ctx.store.exists(name) or name not in plain:
            if ctx.store.exists(name) and _is_listing(ctx.store.path(name)):
                what = f"object {name[:12]}"
                tree = load_tree(ctx, name, what)
                listed.update(e.hash for e in tree.entries)
            continue
        if remote.starts_with(name, _LISTING_START):
            what = f"object {name[:12]} on remote {remote.name!r}"
            data = remote.read(name)
            if hash_bytes(data) == name:
                listed.update(e.hash for e in Tree.from_bytes(data, what=what).entries)
    return listed


def _is_listing(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(_LISTING_START)) == _LISTING_START


def _chunks_of_doomed(remote: Remote, manifests: Sequence[str]) -> set[str]:
    """The chunks the manifests about to go name, to report them as chunks; a malformed one
    goes all the same."""
    chunks: set[str] = set()
    for name in manifests:
        try:
            chunks.update(c.hash for c in remote.manifest(name).chunks)
        except StrataError:
            continue
    return chunks
