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
"""

from __future__ import annotations

import os
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from strata.errors import PointerError
from strata.objects.hashing import is_hash
from strata.paths import unsafe_reason

POINTER_SUFFIX = ".strata"
FORMAT_VERSION = 1
HEADER = "# Strata pointer: commit this file; the data is in the cache and on remotes.\n"

Kind = Literal["file", "directory"]


@dataclass(frozen=True, slots=True)
class Pointer:
    """What a pointer file says. ``path`` is relative to the pointer's own folder."""

    path: str
    kind: Kind
    hash: str
    size: int
    files: int = 1
    format: int = FORMAT_VERSION

    def to_text(self) -> str:
        return HEADER + "".join(
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

    def to_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "path": self.path,
            "kind": self.kind,
            "hash": self.hash,
            "size": self.size,
            "files": self.files,
        }

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
        return cls(path=path, kind=kind, hash=digest, size=size, files=files, format=version)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def pointer_path_for(data_path: Path) -> Path:
    return data_path.with_name(data_path.name + POINTER_SUFFIX)


def write_pointer(pointer_file: Path, pointer: Pointer) -> None:
    """Write a pointer atomically: temp file, fsync, rename."""
    tmp = pointer_file.with_name(f".{pointer_file.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(pointer.to_text())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, pointer_file)
    finally:
        tmp.unlink(missing_ok=True)
