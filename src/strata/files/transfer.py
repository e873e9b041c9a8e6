"""``push``, ``fetch`` and ``pull``: only the objects the other side lacks, in parallel."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from strata.errors import DiskFullError, ObjectCorruptError, ObjectMissingError, StorageError
from strata.files.context import FilesContext
from strata.files.discover import Tracked, load_tree
from strata.files.gc import needed_objects, repository_id
from strata.files.scan import Progress
from strata.objects.hashing import hash_bytes
from strata.objects.remote import Failure, FailureKind, Remote, TransferResult
from strata.parallel import parallel_map

# Objects fetched per filesystem sync.
ARRIVAL_BATCH = 1024


def _no_progress(_: int) -> None:
    return None


def _kind(exc: StorageError) -> FailureKind:
    if isinstance(exc, ObjectCorruptError):
        return "corrupt"
    if isinstance(exc, ObjectMissingError):
        return "missing"
    return "unreadable"


def _each(
    names: Sequence[str], act: Callable[[str], None], jobs: int, progress: Progress
) -> tuple[list[str], list[Failure]]:
    """Run ``act`` on every name; failures are collected, not raised, so one bad object
    does not hide the others. A full disk stops everything: every other object would fail
    the same way."""
    done: list[str] = []
    failed: list[Failure] = []

    def one(name: str) -> None:
        try:
            act(name)
            done.append(name)
        except DiskFullError:
            raise
        except StorageError as exc:
            failed.append(Failure(name, exc.one_line(), _kind(exc)))
        progress(1)

    parallel_map(one, names, jobs)
    return sorted(done), sorted(failed, key=lambda f: f.name)


def push(
    ctx: FilesContext,
    remote: Remote,
    tracked: Sequence[Tracked],
    *,
    jobs: int = 4,
    progress: Progress = _no_progress,
) -> TransferResult:
    needed = needed_objects(ctx, tracked, force=False)
    listing = remote.listing()
    present = listing.names
    mine = repository_id(ctx)
    if mine not in listing.repositories:
        remote.mark(mine)  # before any object: gc --cloud elsewhere then knows we are here
    lacking = sorted(needed - present)
    missing = [n for n in lacking if not ctx.store.exists(n)]
    todo = [n for n in lacking if ctx.store.exists(n)]
    sent: list[int] = []

    def send(name: str) -> None:
        sent.append(remote.upload(ctx.store.path(name), name, present))

    done, failed = _each(todo, send, jobs, progress)
    failed += [Failure(n, "not in the local cache", "missing") for n in missing]
    return TransferResult(tuple(done), len(needed) - len(lacking), tuple(failed), sum(sent))


def fetch(
    ctx: FilesContext,
    remote: Remote,
    tracked: Sequence[Tracked],
    *,
    jobs: int = 4,
    progress: Progress = _no_progress,
) -> TransferResult:
    """Bring the objects the pointers need into the cache: listings first, then the files
    they list. Every object is verified against its hash as it arrives."""
    available = remote.names()

    def get_all(names: Sequence[str]) -> tuple[list[str], list[Failure]]:
        """In batches: each batch costs one filesystem sync instead of one fsync per object,
        and what arrived stays arrived if a later batch is interrupted."""
        done: list[str] = []
        failed: list[Failure] = []
        for start in range(0, len(names), ARRIVAL_BATCH):
            with ctx.store.arrivals() as batch:

                def get(name: str) -> None:
                    if name not in available:
                        raise ObjectMissingError(
                            f"object {name[:12]} is not on remote {remote.name!r}",
                            hint="push it from a workspace that has it",
                        )
                    batch.receive(name, lambda tmp: remote.download(name, tmp), what=name[:12])

                got, lost = _each(names[start : start + ARRIVAL_BATCH], get, jobs, progress)
            done += got
            failed += lost
        return done, failed

    owners = {t.pointer.hash: t.path for t in reversed(tracked)}  # the first one wins
    pointed = set(owners)
    firsts = sorted(n for n in pointed if not ctx.store.exists(n))
    done, failed = get_all(firsts)
    listed: dict[str, str] = {}
    for t in tracked:
        if t.pointer.kind == "directory" and ctx.store.exists(t.pointer.hash):
            what = f"the listing of {t.path}"
            tree = load_tree(ctx, t.pointer.hash, what)
            for e in tree.entries:
                listed.setdefault(e.hash, f"{t.path}/{e.path}")
    seconds = sorted(n for n in listed if not ctx.store.exists(n))
    more_done, more_failed = get_all(seconds)
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
    remote: Remote, *, jobs: int = 4, progress: Progress = _no_progress
) -> tuple[int, list[Failure]]:
    """Re-hash every object on the remote; the ones whose bytes do not match their name."""
    names = sorted(remote.names())

    def check(name: str) -> None:
        if hash_bytes(remote.read(name)) != name:
            raise ObjectCorruptError(f"object {name[:12]} on remote {remote.name!r} is corrupt")

    _, failed = _each(names, check, jobs, progress)
    return len(names), failed
