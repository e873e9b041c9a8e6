"""Pointer files: ``PATH.strata`` beside each tracked path, committed to git.

A pointer is a short TOML document with a fixed key order, so ``git diff`` of a pointer reads
as "this hash and size became that one"::

    # Strata pointer: commit this file; the data is in the cache and on remotes.
    format = 1
    path = "deliveries.csv"
    kind = "file"
    hash = "blake3 hex digest"
    size = 1048576
    files = 1

A path brought in by ``strata import`` also says where it came from, so ``strata update`` can
look for a newer version::

    [origin]
    repo = "https://example.com/team/datasets.git"
    path = "data/deliveries.csv"
    rev = "main"
    commit = "git commit id the rev named when it was imported"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from strata.errors import PointerError
from strata.objects.hashing import is_hash
from strata.paths import atomic_write, unsafe_reason

POINTER_SUFFIX = ".strata"
FORMAT_VERSION = 1
HEADER = "# Strata pointer: commit this file; the data is in the cache and on remotes.\n"

Kind = Literal["file", "directory"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an imported path came from: a Strata git repository, the path there, the
    revision asked for (None: the default branch) and the commit it resolved to."""

    repo: str
    path: str
    rev: str | None
    commit: str

    def to_dict(self) -> dict[str, object]:
        return {"repo": self.repo, "path": self.path, "rev": self.rev, "commit": self.commit}

    def to_text(self) -> str:
        rows = [("repo", self.repo), ("path", self.path), ("rev", self.rev)]
        rows.append(("commit", self.commit))
        return "\n[origin]\n" + "".join(
            f"{key} = {_toml_str(value)}\n" for key, value in rows if value is not None
        )

    @classmethod
    def from_doc(cls, doc: object, where: str) -> Origin:
        if not isinstance(doc, dict):
            raise PointerError(f"pointer {where} has a malformed [origin]")
        repo, path, rev, commit = (doc.get(k) for k in ("repo", "path", "rev", "commit"))
        if not isinstance(repo, str) or not repo or "\n" in repo:
            raise PointerError(f"pointer {where} has a malformed origin repo")
        if not isinstance(path, str) or (reason := unsafe_reason(path)):
            why = reason if isinstance(path, str) else "it is missing"
            raise PointerError(f"pointer {where} names an unsafe origin path: {why}")
        if rev is not None and (not isinstance(rev, str) or not rev or "\n" in rev):
            raise PointerError(f"pointer {where} has a malformed origin rev")
        if not isinstance(commit, str) or not _is_commit_id(commit):
            raise PointerError(f"pointer {where} has a malformed origin commit")
        return cls(repo=repo, path=path, rev=rev, commit=commit)


@dataclass(frozen=True, slots=True)
class Pointer:
    """What a pointer file says. ``path`` is relative to the pointer's own folder."""

    path: str
    kind: Kind
    hash: str
    size: int
    files: int = 1
    format: int = FORMAT_VERSION
    origin: Origin | None = None

    def to_text(self) -> str:
        origin = self.origin.to_text() if self.origin else ""
        return (
            HEADER
            + "".join(
                f"{key} = {value}\n"
                for key, value in (
                    ("format", self.format),
                    ("path", _toml_str(self.path)),
                    ("kind", _toml_str(self.kind)),
                    ("hash", _toml_str(self.hash)),
                    ("size", self.size),
                    ("files", self.files),
                )
            )
            + origin
        )

    def to_dict(self) -> dict[str, object]:
        found: dict[str, object] = {
            "format": self.format,
            "path": self.path,
            "kind": self.kind,
            "hash": self.hash,
            "size": self.size,
            "files": self.files,
        }
        if self.origin is not None:
            found["origin"] = self.origin.to_dict()
        return found

    @classmethod
    def from_text(cls, text: str | bytes, *, where: str) -> Pointer:
        """Parse and validate a pointer; any problem is a one-line PointerError."""
        try:
            raw = text.decode() if isinstance(text, bytes) else text
            doc = tomllib.loads(raw)
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise PointerError(f"pointer {where} is not valid TOML ({exc})") from exc
        return cls._from_doc(doc, where)

    @classmethod
    def _from_doc(cls, doc: dict[str, object], where: str) -> Pointer:
        version = doc.get("format")
        if not isinstance(version, int):
            raise PointerError(f"pointer {where} has no format version")
        if version > FORMAT_VERSION:
            raise PointerError(
                f"pointer {where} has format {version}; this Strata reads up to {FORMAT_VERSION}",
                hint="upgrade strata (`pip install -U strata-ml`)",
            )
        path, kind, digest = doc.get("path"), doc.get("kind"), doc.get("hash")
        size, files = doc.get("size"), doc.get("files", 1)
        if not isinstance(path, str) or (reason := unsafe_reason(path)):
            why = reason if isinstance(path, str) else "it is missing"
            raise PointerError(f"pointer {where} names an unsafe path: {why}")
        if kind not in ("file", "directory"):
            raise PointerError(f"pointer {where} has kind {kind!r}, not 'file' or 'directory'")
        if not isinstance(digest, str) or not is_hash(digest):
            raise PointerError(f"pointer {where} has a malformed hash")
        if not _count(size) or not _count(files):
            raise PointerError(f"pointer {where} has a malformed size or file count")
        assert isinstance(size, int) and isinstance(files, int)
        origin = Origin.from_doc(doc["origin"], where) if "origin" in doc else None
        return cls(
            path=path,
            kind=kind,
            hash=digest,
            size=size,
            files=files,
            format=version,
            origin=origin,
        )


def _is_commit_id(text: str) -> bool:
    """A full git commit id: SHA-1 (40 hex digits) or SHA-256 (64)."""
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def pointer_path_for(data_path: Path) -> Path:
    return data_path.with_name(data_path.name + POINTER_SUFFIX)


def write_pointer(pointer_file: Path, pointer: Pointer) -> None:
    """Write a pointer atomically: temp file, fsync, rename."""
    atomic_write(pointer_file, pointer.to_text().encode())
