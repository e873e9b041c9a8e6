"""Artifacts travel and last like any data: gc keeps them, push and pull move them, and a
download verifies every object first."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from factories import WorkspaceFactory, cache_objects, corrupt, file_hashes, make_folder
from registry_helpers import artifact
from strata import Workspace
from strata.errors import ObjectCorruptError, ObjectMissingError, StorageError


def test_gc_keeps_every_registered_version(ws: Workspace) -> None:
    folder = make_folder(ws.root / "bundle", {"w.bin": b"\x01", "meta/conf.json": "{}"})
    ws.models.register("bundle", folder)
    ws.models.register("clf", artifact(ws.root, "1"))
    kept = cache_objects(ws.store.root)
    assert len(kept) == 4
    result = ws.files.gc()
    assert result.removed == ()
    assert cache_objects(ws.store.root) == kept


def test_models_travel_with_push_and_pull(make_workspace: WorkspaceFactory, tmp_path: Path) -> None:
    source = make_workspace("source")
    folder = make_folder(source.root / "bundle", {"w.bin": b"\x01" * 100, "conf.json": "{}"})
    source.models.register("bundle", folder)
    source.models.register("clf", artifact(source.root, "weights"))
    source.remotes.add("shared", str(tmp_path / "remote"), default=True)
    pushed = source.remotes.push()
    assert len(pushed.transferred) == 4 and not pushed.failed

    shutil.rmtree(source.store.root)  # this machine lost its cache: pull brings it back
    fetched, _ = source.remotes.pull()
    assert not fetched.failed and len(fetched.transferred) == 4
    source.models.download("model:bundle@1", tmp_path / "copy")
    assert file_hashes(tmp_path / "copy") == file_hashes(folder)


def test_downloading_a_folder_verifies_every_file_before_writing(
    ws: Workspace, tmp_path: Path
) -> None:
    folder = make_folder(ws.root / "bundle", {"a.bin": b"a" * 10, "b.bin": b"b" * 10})
    version = ws.models.register("bundle", folder)
    out = tmp_path / "downloads"
    out.mkdir()
    ws.models.download("model:bundle@1", out / "ok")
    assert file_hashes(out / "ok") == file_hashes(folder)

    listing = ws.store.read_bytes(version.artifact_hash, what="listing").decode()
    b_hash = listing.split('"b.bin","')[1][:64]
    corrupt(ws.store.path(b_hash))
    with pytest.raises(ObjectCorruptError, match=r"bundle@1/b\.bin is corrupt"):
        ws.models.download("model:bundle@1", out / "bad")
    assert sorted(p.name for p in out.iterdir()) == ["ok"], "nothing half-written"


def test_a_missing_object_and_a_taken_destination_are_clear(ws: Workspace, tmp_path: Path) -> None:
    version = ws.models.register("clf", artifact(ws.root, "1"))
    with pytest.raises(StorageError, match="exists already"):
        ws.models.download("model:clf@1", ws.root / "out" / "model.json")
    ws.store.remove(version.artifact_hash)
    with pytest.raises(ObjectMissingError):
        ws.models.download("model:clf@1", tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()
