"""``push``, ``fetch`` and ``pull``: only the objects the other side lacks, in parallel."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial

from strata.core.progress import Progress, advance, expect, no_progress
from strata.errors import DiskFullError, ObjectCorruptError, ObjectMissingError, StorageError
from strata.files.context import FilesContext
from strata.files.discover import Tracked, load_tree
from strata.files.gc import needed_objects, repository_id
from strata.files.staging import VOUCH_MIN_SIZE
from strata.objects.deposits import Arrivals, arrivals
from strata.objects.pack_upload import PackUpload
from strata.objects.packs import in_pack_order
from strata.objects.remote import Remote
from strata.objects.remote_listing import Failure, FailureKind, Listing, TransferResult
from strata.objects.state import ObjectStat

# Objects fetched per filesystem sync.
ARRIVAL_BATCH = 4096
GROUP_BYTES = 32 * 1024 * 1024  # received bytes held before they are written out
GROUP_OBJECTS = 4096


def _kind(exc: StorageError) -> FailureKind:
    if isinstance(exc, ObjectCorruptError):
        return "corrupt"
    if isinstance(exc, ObjectMissingError):
        return "missing"
    return "unreadable"


def push(
    ctx: FilesContext,
    remote: Remote,
    tracked: Sequence[Tracked],
    *,
    jobs: int = 4,
    progress: Progress = no_progress,
) -> TransferResult:
    """Send the objects the pointers need that the remote lacks, as packs."""
    needed = needed_objects(ctx, tracked, force=False)
    listing = remote.listing()
    present = set(listing.names)
    mine = repository_id(ctx)
    if mine not in listing.repositories:
        remote.mark(mine)  # before any object: gc --cloud elsewhere then knows we are here
    lacking = sorted(needed - present)
    there = len(needed) - len(lacking)
    del needed  # 200,000 names are tens of MiB: keep one set of them, not three
    small: list[str] = []
    large: list[str] = []
    failed: list[Failure] = []
    total = 0
    threshold = remote.chunk_threshold
    for name in lacking:
        try:
            size = os.stat(ctx.store.where(name)).st_size
        except FileNotFoundError:
            failed.append(Failure(name, "not in the local cache", "missing"))
            continue
        (small if size < threshold or size == 0 else large).append(name)
        total += size
    expect(progress, len(small) + len(large), total)

    def sent(objects: int, nbytes: int) -> None:
        advance(progress, objects, nbytes)

    spool = ctx.store.tmp_dir
    with PackUpload(remote, present, spool=spool, jobs=jobs, on_sent=sent) as upload:
        upload.add_files(small, large, ctx.store.where)
    outcome = upload.outcome
    failed += [Failure(n, reason, "unreadable") for n, reason in outcome.failed]
    failed.sort(key=lambda f: f.name)
    done = tuple(sorted(outcome.sent))
    return TransferResult(done, there, tuple(failed), outcome.bytes, outcome.packs)


def _not_there(remote: Remote, name: str) -> Failure:
    exc = ObjectMissingError(
        f"object {name[:12]} is not on remote {remote.name!r}",
        hint="push it from a workspace that has it",
    )
    return Failure(name, exc.one_line(), "missing")


def _arrive(
    ctx: FilesContext,
    remote: Remote,
    listing: Listing,
    names: Sequence[str],
    jobs: int,
    progress: Progress,
) -> tuple[list[str], list[Failure]]:
    """Bring ``names`` into the cache. Plain objects come in ranged reads of their packs and
    are written on ``jobs`` threads, a group of bounded size at a time; each batch of
    ARRIVAL_BATCH costs one filesystem sync instead of one fsync per object, and what
    arrived stays arrived if a later batch is interrupted. Chunked objects come one at a
    time, their chunks read in parallel."""
    done: list[str] = []
    failed = [_not_there(remote, n) for n in names if n not in listing.names]
    chunked = [n for n in names if n in listing.chunked]
    plain = [n for n in names if n in listing.plain and n not in listing.chunked]
    plain = in_pack_order(plain, listing.located)

    vouched: list[str] = []

    def receive(batch: Arrivals, group: list[tuple[str, bytes]]) -> None:
        refused = dict(batch.receive_all(group, jobs))
        vouched.extend(n for n, data in group if n not in refused and len(data) >= VOUCH_MIN_SIZE)
        for name, data in group:
            if name in refused:
                failed.append(Failure(name, refused[name].one_line(), _kind(refused[name])))
            else:
                done.append(name)
            advance(progress, 1, len(data))

    for start in range(0, len(plain), ARRIVAL_BATCH):
        with arrivals(ctx.store) as batch:
            group: list[tuple[str, bytes]] = []
            held = 0
            for name, got in remote.read_many(plain[start : start + ARRIVAL_BATCH], jobs):
                if isinstance(got, StorageError):
                    failed.append(Failure(name, got.one_line(), _kind(got)))
                    advance(progress, 1)
                    continue
                group.append((name, got))
                held += len(got)
                if held >= GROUP_BYTES or len(group) >= GROUP_OBJECTS:
                    receive(batch, group)
                    group, held = [], 0
            receive(batch, group)
        vouch_for(ctx, vouched)
        vouched.clear()
    for name in chunked:
        try:
            with arrivals(ctx.store) as batch:
                batch.receive_hashed(name, partial(remote.download, name), what=name[:12])
            done.append(name)
            vouch_for(ctx, [name])  # hashed as it arrived: checkout need not hash it again
            advance(progress, 1, ctx.store.size(name))
        except DiskFullError:
            raise
        except StorageError as exc:
            failed.append(Failure(name, exc.one_line(), _kind(exc)))
            advance(progress, 1)
    return sorted(done), sorted(failed, key=lambda f: f.name)


def vouch_for(ctx: FilesContext, names: Sequence[str]) -> None:
    """Note in the state cache that objects just hashed on arrival match their names, with
    their stat now, so that checking them out copies without hashing them again."""
    ctx.state.save_verified((n, ObjectStat.of(os.stat(ctx.store.where(n)))) for n in names)


def _sizes(listing: Listing, names: Sequence[str]) -> int:
    """The bytes of ``names`` as the listing knows them (a chunked object's only once its
    manifest is read: not counted)."""
    located, loose = listing.located, listing.files
    total = 0
    for name in names:
        where = located.get(name)
        total += where.entry.size if where is not None else loose.get(name, 0)
    return total


def fetch(
    ctx: FilesContext,
    remote: Remote,
    tracked: Sequence[Tracked],
    *,
    jobs: int = 4,
    progress: Progress = no_progress,
) -> TransferResult:
    """Bring the objects the pointers need into the cache: listings first, then the files
    they list. Every object is verified against its hash as it arrives."""
    listing = remote.listing()
    owners = {t.pointer.hash: t.path for t in reversed(tracked)}  # the first one wins
    pointed = set(owners)
    firsts = sorted(n for n in pointed if not ctx.store.exists(n))
    expect(progress, len(firsts), _sizes(listing, firsts))
    done, failed = _arrive(ctx, remote, listing, firsts, jobs, progress)
    listed: dict[str, str] = {}
    for t in tracked:
        if t.pointer.kind == "directory" and ctx.store.exists(t.pointer.hash):
            what = f"the listing of {t.path}"
            tree = load_tree(ctx, t.pointer.hash, what)
            for e in tree.entries:
                listed.setdefault(e.hash, f"{t.path}/{e.path}")
    seconds = sorted(n for n in listed if not ctx.store.exists(n))
    expect(progress, len(seconds), _sizes(listing, seconds))
    more_done, more_failed = _arrive(ctx, remote, listing, seconds, jobs, progress)
    all_done = tuple(done + more_done)
    present = len((pointed | set(listed)) - set(firsts) - set(seconds))
    size = sum(ctx.store.size(n) for n in all_done)
    named = with_paths(failed + more_failed, {**listed, **owners})
    return TransferResult(all_done, present, named, size)


def with_paths(failed: Sequence[Failure], owners: Mapping[str, str]) -> tuple[Failure, ...]:
    """``failed``, each naming the tracked path that uses its object, where one does."""
    return tuple(replace(f, path=owners.get(f.name, f.path)) for f in failed)


@dataclass(frozen=True, slots=True)
class RemoteState:
    """For one tracked path: objects not yet pushed, and objects to pull."""

    path: str
    not_pushed: int
    not_pulled: int

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "not_pushed": self.not_pushed, "not_pulled": self.not_pulled}


def remote_status(
    ctx: FilesContext, remote: Remote, tracked: Sequence[Tracked]
) -> list[RemoteState]:
    """What push and pull would move, per tracked path, from one listing of the remote."""
    available = remote.names()
    states = []
    for t in tracked:
        names = {t.pointer.hash}
        if t.pointer.kind == "directory" and ctx.store.exists(t.pointer.hash):
            what = f"the listing of {t.path}"
            tree = load_tree(ctx, t.pointer.hash, what)
            names.update(e.hash for e in tree.entries)
        local = {n for n in names if ctx.store.exists(n)}
        states.append(RemoteState(t.path, len(local - available), len((names - local) & available)))
    return states


def verify_remote(
    remote: Remote, *, jobs: int = 4, progress: Progress = no_progress
) -> tuple[int, list[Failure]]:
    """Re-hash every object on the remote, each pack read in large ranges; a chunked object
    is as good as its chunks. Returns how many were checked and the ones that failed: plain
    objects and chunks whose bytes do not match their name (or could not be read), chunked
    objects with a bad or missing chunk, and pack indexes that cannot be trusted."""
    listing = remote.listing()
    plain = list(listing.plain)
    chunked = sorted(listing.chunked)
    expect(progress, len(plain) + len(chunked), _sizes(listing, plain))
    failed: dict[str, Failure] = {}
    for name, got in remote.read_many(in_pack_order(plain, listing.located), jobs):
        if isinstance(got, StorageError):
            failed[name] = Failure(name, got.one_line(), _kind(got))
        advance(progress, 1, 0 if isinstance(got, StorageError) else len(got))
    for name in chunked:
        problem = _chunk_problem(remote, listing, name, failed)
        if problem is not None:
            failed[name] = problem
        advance(progress, 1)
    for pack, reason in listing.bad_indexes.items():
        failed[pack] = Failure(pack, f"the index of pack {pack[:12]}: {reason}", "corrupt")
    return len(plain) + len(chunked), sorted(failed.values(), key=lambda f: f.name)


def _chunk_problem(
    remote: Remote, listing: Listing, name: str, bad: Mapping[str, Failure]
) -> Failure | None:
    """What is wrong with chunked object ``name``: its manifest, or its first bad chunk."""
    try:
        manifest = remote.manifest(name)
    except StorageError as exc:
        return Failure(name, exc.one_line(), _kind(exc))
    for chunk in manifest.chunks:
        if chunk.hash not in listing.names:
            reason = f"its manifest names chunk {chunk.hash[:12]}, which is missing"
            return Failure(name, reason, "missing")
        if chunk.hash in bad:
            why = bad[chunk.hash]
            return Failure(name, f"chunk {chunk.hash[:12]}: {why.reason}", why.kind)
    return None
