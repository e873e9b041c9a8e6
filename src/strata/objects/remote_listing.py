"""What a remote holds and what a transfer did: listings, failures, results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from strata.objects.hashing import is_hash
from strata.objects.packs import INDEX_SUFFIX, PACK_SUFFIX, Located, PackIndex

PACK_GONE = "its pack file is gone"  # why an index whose pack is missing counts for nothing

FailureKind = Literal["missing", "corrupt", "unreadable"]


@dataclass(frozen=True, slots=True)
class Failure:
    """One object that did not move or check out: ``missing`` (not there), ``corrupt`` (its
    bytes do not match its name) or ``unreadable`` (the network, credentials or disk failed);
    ``path`` is the tracked path that uses it, where known."""

    name: str
    reason: str
    kind: FailureKind = "unreadable"
    path: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"hash": self.name, "path": self.path, "kind": self.kind, "reason": self.reason}

    @property
    def what(self) -> str:
        """The object as a person names it: its path when known, else its hash."""
        return f"{self.path} ({self.name[:12]})" if self.path else self.name[:12]


@dataclass(frozen=True)
class Listing:
    """What one listing of a remote found: loose plain objects and chunks (one namespace,
    since a chunk is named by its bytes' hash too) and loose chunk manifests, each with its
    size in bytes; the packs whose index and pack file are both there, by name; the ids of
    the repositories that pushed here. Also what is wrong or half-done: indexes whose pack is
    gone or whose bytes do not match their name (pack name → reason), and pack files no index
    names yet (pack name → age in seconds, where the remote tells it)."""

    files: Mapping[str, int]
    manifests: Mapping[str, int]
    repositories: frozenset[str]
    packs: Mapping[str, PackIndex] = field(default_factory=dict)
    bad_indexes: Mapping[str, str] = field(default_factory=dict)
    stray_packs: Mapping[str, float | None] = field(default_factory=dict)

    @cached_property
    def located(self) -> dict[str, Located]:
        """Where each packed plain object or chunk is (the first pack that holds it)."""
        return self._packed(manifests=False)

    @cached_property
    def located_manifests(self) -> dict[str, Located]:
        """Where each packed chunk manifest is, by its object's name (which a chunk may
        share: an object of one chunk)."""
        return self._packed(manifests=True)

    def _packed(self, *, manifests: bool) -> dict[str, Located]:
        found: dict[str, Located] = {}
        for pack, index in self.packs.items():
            for entry in index.entries:
                if entry.manifest == manifests:
                    found.setdefault(entry.name, Located(pack, entry))
        return found

    @cached_property
    def plain(self) -> set[str]:
        """Objects and chunks stored whole, loose or packed."""
        return set(self.files) | set(self.located)

    @cached_property
    def chunked(self) -> set[str]:
        """Objects stored as chunks plus a manifest."""
        return set(self.manifests) | set(self.located_manifests)

    @cached_property
    def names(self) -> set[str]:
        return self.plain | self.chunked


@dataclass(frozen=True)
class TransferResult:
    """What a push or fetch moved, what was there already, and what failed and why."""

    transferred: tuple[str, ...] = ()
    present: int = 0
    failed: tuple[Failure, ...] = field(default_factory=tuple)
    bytes: int = 0
    packs: int = 0  # the packs a push wrote

    def to_dict(self) -> dict[str, object]:
        return {
            "transferred": len(self.transferred),
            "already_there": self.present,
            "bytes": self.bytes,
            "packs": self.packs,
            "failed": [f.to_dict() for f in self.failed],
        }


def is_repository_id(text: str) -> bool:
    """A repository id as ``repos/`` markers name them: 8 to 64 lowercase hex digits."""
    return 8 <= len(text) <= 64 and all(c in "0123456789abcdef" for c in text)


def age(info: Mapping[str, Any]) -> float | None:
    """Seconds since a listed file was last written, where the listing tells."""
    import time
    from datetime import datetime

    stamp = info.get("mtime", info.get("LastModified", info.get("last_modified")))
    if isinstance(stamp, datetime):
        return time.time() - stamp.timestamp()
    if isinstance(stamp, int | float):
        return time.time() - float(stamp)
    return None


@dataclass
class FoundFiles:
    """The files of a remote's listing, sorted by what they are (anything else is ignored)."""

    files: dict[str, int] = field(default_factory=dict)  # loose objects and chunks: sizes
    manifests: dict[str, int] = field(default_factory=dict)  # loose manifests: sizes
    repositories: set[str] = field(default_factory=set)
    pack_files: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # name → details
    indexes: set[str] = field(default_factory=set)  # packs whose index is there

    @classmethod
    def sort(cls, found: Mapping[str, Mapping[str, Any]]) -> FoundFiles:
        """From ``fs.find(root, detail=True)``: path → details."""
        out = cls()
        for path, info in found.items():
            parts = str(path).rstrip("/").split("/")
            if len(parts) >= 2 and parts[-2] == "repos" and is_repository_id(parts[-1]):
                out.repositories.add(parts[-1])
            elif len(parts) >= 2 and parts[-2] == "packs":
                stem, dot, suffix = parts[-1].partition(".")
                if is_hash(stem) and f"{dot}{suffix}" == PACK_SUFFIX:
                    out.pack_files[stem] = info
                elif is_hash(stem) and f"{dot}{suffix}" == INDEX_SUFFIX:
                    out.indexes.add(stem)
            elif len(parts) >= 3 and is_hash(parts[-2] + parts[-1]):
                into = out.manifests if parts[-3] == "manifests" else out.files
                into[parts[-2] + parts[-1]] = int(info.get("size") or 0)
        return out
