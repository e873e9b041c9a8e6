"""``gc --cloud``: remove from a remote what no branch, tag or working tree needs.

A remote may serve several repositories, whose refs this one cannot see. Every push therefore
writes a marker ``repos/<id>`` on the remote, where the id is the repository's root commit
(shared by all its clones). ``gc --cloud`` refuses, unless forced, when the remote holds a
marker of another repository, or holds objects but no marker of this one.

Packs holding nothing needed are removed whole (index first); packs holding less than
``REPACK_BELOW`` of needed bytes are rewritten: their needed entries go into new packs, and
the old ones are removed only once the new indexes are published. Loose objects (from remotes
written before packs) go one by one: manifests and plain objects nobody needs first, chunks
that no kept manifest names after, so a manifest that remains never names a removed chunk.
What killed pushes left behind goes too once ``STRAY_AGE`` old: pack files no index names,
files in a folder remote's ``tmp/``, and multipart uploads never completed nor aborted under
the remote's root (``strata.objects.remote_leftovers``).
Do not run it while someone pushes to the same remote: a push that counted on an object
being there may lose it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from strata.core.progress import Progress, advance, expect, no_progress
from strata.errors import (
    ObjectCorruptError,
    ObjectMissingError,
    RemoteError,
    StorageError,
    StrataError,
)
from strata.files.context import FilesContext
from strata.files.discover import load_tree
from strata.files.gc import needed_objects, repository_id, tracked_everywhere
from strata.objects.hashing import hash_bytes
from strata.objects.pack_upload import PackUpload
from strata.objects.packs import Located
from strata.objects.remote import Remote
from strata.objects.remote_leftovers import clear_leftovers, find_leftovers
from strata.objects.remote_listing import Listing
from strata.objects.tree import Tree
from strata.parallel import parallel_map

REPACK_BELOW = 0.5  # a pack with less than this share of needed bytes is rewritten
STRAY_AGE = 3600.0  # a stray pack, temporary file or open upload this old is no push in progress


@dataclass(frozen=True, slots=True)
class CloudGcResult:
    remote: str
    removed: tuple[str, ...]  # objects, as whole objects or as chunk manifests
    chunks_removed: int
    bytes_freed: int
    kept: int
    revisions: tuple[str, ...]
    dry_run: bool
    packs_removed: int = 0
    packs_rewritten: int = 0
    temp_files_removed: int = 0  # a folder remote's temporary files left by killed pushes
    uploads_aborted: int = 0  # multipart uploads left open by killed pushes

    def to_dict(self) -> dict[str, object]:
        return {
            "remote": self.remote,
            "packs_removed": self.packs_removed,
            "packs_rewritten": self.packs_rewritten,
            "temp_files_removed": self.temp_files_removed,
            "uploads_aborted": self.uploads_aborted,
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
    progress: Progress = no_progress,
) -> CloudGcResult:
    """Remove from ``remote`` what no pointer on any branch, tag, remote-tracking branch or
    the working tree needs, nor ``also_keep``; see the module docstring for the rules."""
    listing = remote.listing()
    if listing.names and not force:
        _check_not_shared(ctx, remote, listing.repositories)
    tracked, revisions = tracked_everywhere(ctx, _remote_refs(ctx))
    on_remote = listing.names

    def listing_from_remote(name: str, what: str) -> bytes:
        if name not in on_remote:
            raise ObjectMissingError(f"{what} is missing")
        data = remote.read(name)
        if hash_bytes(data) != name:
            raise ObjectCorruptError(f"{what} on remote {remote.name!r} is corrupt")
        return data

    keep = needed_objects(ctx, tracked, force=force, fallback=listing_from_remote)
    keep |= set(also_keep) | _listed_in(ctx, remote, also_keep, listing.plain)
    chunks: set[str] = set()
    for name in sorted(listing.chunked & keep):
        chunks.update(c.hash for c in remote.manifest(name).chunks)
    live = keep | chunks
    doomed_manifests = sorted(m for m in listing.manifests if m not in keep)
    doomed_files = sorted(n for n in listing.files if n not in live)
    plan = plan_packs(listing, live)
    dead_packed = {e.name for p in plan.dropped + plan.rewritten for e in listing.packs[p].entries}
    dead_packed -= live
    doomed_chunks = _chunks_of_doomed(remote, sorted(listing.chunked - keep))
    freed = sum(listing.manifests[m] for m in doomed_manifests)
    freed += sum(listing.files[n] for n in doomed_files) + plan.bytes_freed
    leftovers = find_leftovers(remote, STRAY_AGE)
    freed += leftovers.size
    expect(progress, len(doomed_manifests) + len(doomed_files) + plan.packs)
    if not dry_run:

        def remove_manifest(name: str) -> None:
            remote.delete(name, manifest=True)
            advance(progress, 1)

        def remove_file(name: str) -> None:
            remote.delete(name)
            advance(progress, 1)

        parallel_map(remove_manifest, doomed_manifests, jobs)  # first: see the docstring
        parallel_map(remove_file, doomed_files, jobs)
        carry_out(ctx, remote, listing, plan, live, jobs=jobs, progress=progress)
        clear_leftovers(remote, leftovers)
    removed = set(doomed_manifests) | (set(doomed_files) - doomed_chunks)
    removed |= dead_packed - doomed_chunks
    chunks_removed = len((set(doomed_files) | dead_packed) & doomed_chunks)
    return CloudGcResult(
        remote.name,
        tuple(sorted(removed)),
        chunks_removed,
        freed,
        len(keep & listing.names),
        tuple(revisions),
        dry_run,
        packs_removed=len(plan.dropped) + len(plan.strays) + len(plan.dangling),
        packs_rewritten=len(plan.rewritten),
        temp_files_removed=len(leftovers.temp_files),
        uploads_aborted=len(leftovers.uploads),
    )


@dataclass(frozen=True)
class PackPlan:
    """What ``gc --cloud`` does with packs: remove those holding nothing needed (and pack
    files no index names, once old enough to be no push in progress), rewrite those holding
    mostly garbage, and remove indexes never read: their pack is gone or they do not match
    their name."""

    dropped: list[str]
    rewritten: list[str]
    strays: list[str]
    dangling: list[str]
    bytes_freed: int

    @property
    def packs(self) -> int:
        return len(self.dropped) + len(self.rewritten) + len(self.strays) + len(self.dangling)


def plan_packs(listing: Listing, live: set[str]) -> PackPlan:
    dropped, rewritten, freed = [], [], 0
    for name, index in sorted(listing.packs.items()):
        kept = sum(e.size for e in index.entries if e.name in live)
        if kept == 0:
            dropped.append(name)
            freed += index.size
        elif kept < index.size * REPACK_BELOW:
            rewritten.append(name)
            freed += index.size - kept
    strays = [n for n, age in listing.stray_packs.items() if age is not None and age > STRAY_AGE]
    dangling = list(listing.bad_indexes)  # never read: a pack gone, or an untrusted index
    return PackPlan(dropped, rewritten, sorted(strays), sorted(dangling), freed)


def carry_out(
    ctx: FilesContext,
    remote: Remote,
    listing: Listing,
    plan: PackPlan,
    live: set[str],
    *,
    jobs: int,
    progress: Progress,
) -> None:
    """Rewrite, then remove. The live entries of a pack being rewritten go into new packs
    whose indexes are published before any old pack goes, so nothing needed is ever absent;
    a pack with an entry that cannot be read whole is left as it is."""
    keep_old: set[str] = set()
    if plan.rewritten:
        wanted = [
            Located(p, e)
            for p in plan.rewritten
            for e in listing.packs[p].entries
            if e.name in live
        ]
        with PackUpload(remote, set(), spool=ctx.store.tmp_dir, jobs=jobs) as upload:
            for where, (_, got) in zip(wanted, remote.read_entries(wanted, jobs), strict=True):
                if isinstance(got, StorageError):
                    keep_old.add(where.pack)
                    continue
                upload.add_bytes(where.entry.name, got, manifest=where.entry.manifest)
    for pack in plan.dropped + [p for p in plan.rewritten if p not in keep_old]:
        remote.delete_pack(pack)
        advance(progress, 1)
    for pack in plan.strays:
        remote.delete_pack(pack, index=False)
        advance(progress, 1)
    for pack in plan.dangling:
        remote.delete_pack(pack)
        advance(progress, 1)


_LISTING_START = b'{"format":1,"files":'


def _listed_in(
    ctx: FilesContext, remote: Remote, names: Sequence[str], plain: Collection[str]
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
