"""Checkout's first step: every file it writes, verified, in a temp file beside its
destination, before anything in the workspace is changed.

Files are created on ``cache.jobs`` threads, a chunk of files at a time. The default is one:
on ext4 most of a small file's checkout is the kernel creating its inode, and threads that
create inodes in the same block group contend there (measured slower with two threads on two
cores).

An object is hashed as it is copied unless the state cache vouches for it: verified before,
with the same inode, size, mtime and ctime now, so not written or replaced since. Small
objects are always hashed: their bytes pass through the copy anyway, and hashing them costs
less than asking.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from strata.core.progress import Progress, advance
from strata.files.context import FilesContext
from strata.objects.state import FileStat, ObjectStat
from strata.parallel import check_cancelled, parallel_map

_CHUNK = 64  # files a thread takes at once: few futures, and progress in small steps
# From this size the state cache is asked whether an object was verified: below it, hashing
# the bytes on their way through the copy (about 0.5 µs per KiB) costs less than looking up
# and storing its stat (about 5 µs).
VOUCH_MIN_SIZE = 16 * 1024


@dataclass(frozen=True, slots=True)
class Write:
    dest: str
    digest: str
    size: int  # as the pointer or listing says: only chooses how the object is checked
    what: str  # the tracked path, for messages
    direct: bool = False  # written at ``dest`` itself (in a new folder), not beside it


@dataclass(frozen=True, slots=True)
class Staged:
    tmp: str
    dest: str
    stat: FileStat  # of the temp file, which the rename keeps
    digest: str


def make_folders(folders: Iterable[tuple[str, str]], made: list[str]) -> None:
    """Make each ``(folder, stop)`` folder and the missing ones above it, short of ``stop``,
    noting in ``made`` the ones made here (parents first)."""
    known: set[str] = set()
    for folder, stop in sorted(set(folders)):
        missing = []
        while folder not in known and folder != stop and not os.path.isdir(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        for new in reversed(missing):
            try:
                os.mkdir(new)
            except FileExistsError:
                pass
            else:
                made.append(new)
            known.add(new)
        known.add(folder)


def remove_folders(made: Sequence[str]) -> None:
    """Remove the folders ``make_folders`` made, deepest first, where they are empty."""
    for folder in reversed(made):
        try:
            os.rmdir(folder)
        except OSError:
            pass


def stage_writes(
    ctx: FilesContext, writes: Sequence[Write], staged: list[Staged], progress: Progress
) -> None:
    """Each write in a verified temp file beside its destination (or, ``direct``, at it),
    appended to ``staged`` as soon as it exists (so the caller can remove them all when one
    fails)."""
    vouched = ctx.state.verified([w.digest for w in writes if w.size >= VOUCH_MIN_SIZE])
    fresh: list[tuple[str, ObjectStat]] = []

    def stage_chunk(chunk: Sequence[Write]) -> None:
        for write in chunk:
            check_cancelled()
            trusted = vouched.get(write.digest)
            if write.direct:
                tmp = write.dest
                st, verified = ctx.store.place_verified(
                    write.digest, tmp, what=write.what, trusted=trusted
                )
            else:
                tmp, st, verified = ctx.store.stage(
                    write.digest, write.dest, what=write.what, trusted=trusted
                )
            staged.append(Staged(tmp, write.dest, st, write.digest))
            if verified is not None and verified.size >= VOUCH_MIN_SIZE:
                fresh.append((write.digest, verified))
        advance(progress, len(chunk), sum(w.size for w in chunk))

    chunks = [writes[i : i + _CHUNK] for i in range(0, len(writes), _CHUNK)]
    try:
        parallel_map(stage_chunk, chunks, ctx.jobs)
    finally:
        ctx.state.save_verified(fresh)


def rename_staged(ctx: FilesContext, staged: Sequence[Staged]) -> None:
    """Rename the verified temp files over their destinations, noting each file written in
    the state cache; the ones not renamed when something fails are left to the caller."""
    renamed: list[Staged] = []
    try:
        for item in staged:
            check_cancelled()
            os.replace(item.tmp, item.dest)
            renamed.append(item)
    finally:
        ctx.state.save((item.stat, item.digest) for item in renamed)
