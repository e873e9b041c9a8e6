"""Model artifacts as content-addressed objects: a file is one object, a folder is its files
plus one tree object listing them, exactly as ``strata add`` stores data, so the cache
deduplicates them and push, pull and gc treat them like any data."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from strata.errors import ObjectCorruptError, ObjectMissingError, RegistryError, StorageError
from strata.models.records import Artifact
from strata.objects.deposits import Deposits
from strata.objects.state import FileStat
from strata.objects.store import ObjectStore, translate_os_error
from strata.objects.tree import Tree, TreeEntry

SMALL_FILE = 16 * 1024 * 1024


def prepare(batch: Deposits, path: Path) -> Artifact:
    """Put the file or folder at ``path`` into ``batch``, each file read once and hashed on
    its way into the cache: the artifact's record. The objects become durable when the
    batch commits, which the registry does while it writes the version's row."""
    if path.is_symlink() or not path.exists():
        raise RegistryError(
            f"model artifact {path} does not exist" + (" (a symlink)" if path.is_symlink() else ""),
            hint="give the path of a model file or folder",
        )
    try:
        if path.is_dir():
            return _prepare_folder(batch, path)
        stat = FileStat.of(path.stat())
    except OSError as exc:
        raise translate_os_error(exc, f"reading model artifact {path}") from exc
    # a small file is copied; a large one placed by the cache's link types, as data is
    digest = batch.put_file(path, stat, what=str(path), link=stat.size > SMALL_FILE)
    return Artifact(digest, "file", path.name, stat.size, 1)


@dataclass(frozen=True)
class StoredFolder:
    """A folder whose files are objects of the store already (what a tracking client
    logged): registered from its listing, nothing copied or hashed again."""

    name: str
    entries: tuple[TreeEntry, ...]


def prepare_stored(objects: ObjectStore, batch: Deposits, folder: StoredFolder) -> Artifact:
    """``prepare`` for a folder already in the store: the tree object is all there is to add."""
    if not folder.entries:
        raise RegistryError(f"model folder {folder.name} holds no files")
    missing = objects.missing([e.hash for e in folder.entries])
    if missing:
        raise ObjectMissingError(
            f"object {missing[0][:12]} of model folder {folder.name} is not in the cache"
        )
    tree = Tree.build(folder.entries)
    batch.put_bytes(tree.to_bytes(), what=f"the listing of {folder.name}")
    return Artifact(tree.hash, "directory", folder.name, tree.size, len(tree.entries))


def _prepare_folder(batch: Deposits, folder: Path) -> Artifact:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    if not files:
        raise RegistryError(f"model folder {folder} holds no files", hint="name a non-empty folder")
    entries = []
    for path in files:
        try:
            stat = FileStat.of(path.stat())
        except OSError as exc:
            raise translate_os_error(exc, f"reading model artifact {path}") from exc
        digest = batch.put_file(path, stat, what=str(path), link=True)
        entries.append(TreeEntry(path.relative_to(folder).as_posix(), digest, stat.size))
    tree = Tree.build(entries)
    batch.put_bytes(tree.to_bytes(), what=f"the listing of {folder}")
    return Artifact(tree.hash, "directory", folder.name, tree.size, len(entries))


def objects_of(objects: ObjectStore, digest: str, kind: str, *, what: str) -> list[str]:
    """Every object an artifact needs: the file, or the tree and the files it lists."""
    if kind != "directory":
        return [digest]
    return [digest, *(e.hash for e in _tree(objects, digest, what).entries)]


def _tree(objects: ObjectStore, digest: str, what: str) -> Tree:
    return Tree.from_bytes(objects.read_bytes(digest, what=what), what=what)


def verify(objects: ObjectStore, digest: str, kind: str, *, what: str) -> list[tuple[str, str]]:
    """Check every object of an artifact against its hash before anything is written;
    (relative path, object) pairs to place, '' for a single file."""
    if kind != "directory":
        _require_intact(objects, digest, what)
        return [("", digest)]
    tree = _tree(objects, digest, what)
    for entry in tree.entries:
        _require_intact(objects, entry.hash, f"{what}/{entry.path}")
    return [(e.path, e.hash) for e in tree.entries]


def _require_intact(objects: ObjectStore, digest: str, what: str) -> None:
    objects.require(digest, what)
    if not objects.is_intact(digest):
        raise ObjectCorruptError(
            f"artifact of {what} is corrupt: object {digest[:12]} does not match its hash",
            hint="nothing was written; `strata pull` a good copy, or register the model again",
        )


def materialise(objects: ObjectStore, placements: list[tuple[str, str]], out: Path) -> None:
    """Write verified objects to ``out`` (a file, or a folder for a tree), all or nothing:
    into a temp name beside ``out`` first, renamed into place at the end."""
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex}.strata-tmp")
    try:
        for rel, digest in placements:
            dest = tmp / rel if rel else tmp
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(objects.path(digest), dest)
        os.replace(tmp, out)
    except OSError as exc:
        raise translate_os_error(exc, f"writing {out}") from exc
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def check_destination(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise StorageError(f"{out} exists already", hint="name a new path to download to")
    if not out.parent.is_dir():
        raise StorageError(f"folder {out.parent} does not exist", hint="create it first")
