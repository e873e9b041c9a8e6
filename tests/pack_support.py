"""Reaching into a remote's packs, for tests that damage them as a disk or a person might."""

from __future__ import annotations

from strata.objects.packs import PackEntry, PackIndex
from strata.objects.remote import Remote


def pack_path(remote: Remote, pack: str, suffix: str = ".pack") -> str:
    return f"{remote.root}/packs/{pack}{suffix}"


def where(remote: Remote, name: str) -> tuple[str, PackEntry]:
    """The pack holding entry ``name`` and the entry."""
    located = remote.listing().located[name]
    return located.pack, located.entry


def packs(remote: Remote) -> dict[str, PackIndex]:
    return dict(remote.listing().packs)


def tamper(remote: Remote, name: str) -> str:
    """Flip the first byte of entry ``name`` inside its pack (the index is left alone);
    returns the pack's name."""
    pack, entry = where(remote, name)
    path = pack_path(remote, pack)
    data = bytearray(remote.fs.cat_file(path))
    data[entry.offset] ^= 0xFF
    remote.fs.pipe_file(path, bytes(data))
    return pack


def rewrite_index(remote: Remote, pack: str, index: PackIndex) -> str:
    """Replace the index of ``pack`` by ``index``, renaming the pack to match (as a tool
    that writes packs correctly but indexes them wrongly would); returns the new name."""
    new = index.name
    remote.fs.pipe_file(pack_path(remote, new), remote.fs.cat_file(pack_path(remote, pack)))
    remote.fs.pipe_file(pack_path(remote, new, ".idx"), index.to_bytes())
    remote.fs.rm_file(pack_path(remote, pack, ".idx"))
    remote.fs.rm_file(pack_path(remote, pack))
    return new


def drop_entry(remote: Remote, name: str) -> str:
    """Remove entry ``name`` from its pack's index: the remote no longer has it."""
    pack, _ = where(remote, name)
    index = remote.listing().packs[pack]
    kept = tuple(e for e in index.entries if e.name != name)
    return rewrite_index(remote, pack, PackIndex(kept, index.size))
