"""The object store: atomic puts through cache/tmp, and reads that verify the hash."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import pytest

import strata.objects.links
from factories import b3, corrupt, write
from strata.errors import (
    DiskFullError,
    ObjectCorruptError,
    ObjectMissingError,
    StorageError,
)
from strata.objects import ObjectStore
from strata.objects.deposits import arrivals
from strata.objects.hashing import MULTITHREAD_MIN_SIZE
from strata.objects.links import Copied
from strata.objects.state import FileStat

DATA = b"delivery_id,delay\n1,4\n2,9\n" * 1000


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(tmp_path / "cache", ("copy",))


def _tmp_files(store: ObjectStore) -> list[Path]:
    return list(store.tmp_dir.iterdir()) if store.tmp_dir.is_dir() else []


def test_add_file_stores_a_read_only_object_under_its_hash(
    store: ObjectStore, tmp_path: Path
) -> None:
    src = write(tmp_path / "data.csv", DATA)
    name = b3(DATA)
    assert store.add_file(src, name) == "copy"
    obj = store.root / name[:2] / name[2:]
    assert obj.read_bytes() == DATA
    assert stat.S_IMODE(obj.stat().st_mode) & 0o222 == 0
    assert store.exists(name)
    assert list(store.names()) == [name]
    assert _tmp_files(store) == []


def test_add_file_of_a_known_object_stores_nothing(store: ObjectStore, tmp_path: Path) -> None:
    src = write(tmp_path / "data.csv", DATA)
    name = b3(DATA)
    store.add_file(src, name)
    assert store.add_file(src, name) is None
    assert list(store.names()) == [name]


def test_add_bytes_returns_the_blake3_name(store: ObjectStore) -> None:
    name = store.add_bytes(DATA)
    assert name == b3(DATA)
    assert store.read_bytes(name, what="test") == DATA


@pytest.mark.parametrize("how", ["file", "bytes"])
def test_put_is_atomic_through_cache_tmp(
    store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The object appears under its name only by one rename of a complete temp file that was
    written in cache/tmp."""
    name = b3(DATA)
    final = store.root / name[:2] / name[2:]
    seen: list[tuple[Path, bool, bytes]] = []
    real_replace = os.replace

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst) == final:
            seen.append((Path(src), final.exists(), Path(src).read_bytes()))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    if how == "file":
        store.add_file(write(tmp_path / "data.csv", DATA), name)
    else:
        store.add_bytes(DATA)
    [(src, existed_before, contents)] = seen
    assert src.parent == store.root / "tmp"
    assert not existed_before
    assert contents == DATA
    assert final.read_bytes() == DATA
    assert _tmp_files(store) == []


@pytest.mark.parametrize(
    ("err", "error_type"),
    [(errno.EIO, StorageError), (errno.ENOSPC, DiskFullError)],
    ids=["io-error", "disk-full"],
)
def test_a_write_that_fails_halfway_leaves_no_object_and_no_temp_file(
    store: ObjectStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    err: int,
    error_type: type[StorageError],
) -> None:
    def half_copy(src: Path, dst: Path, **options: Any) -> Copied:
        with open(dst, "xb") as fh:
            fh.write(src.read_bytes()[: len(DATA) // 2])
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(strata.objects.links, "copy_checked", half_copy)
    src = write(tmp_path / "data.csv", DATA)
    name = b3(DATA)
    with pytest.raises(error_type) as info:
        store.add_file(src, name, what="data.csv")
    assert "data.csv" in info.value.one_line()
    assert not store.exists(name)
    assert list(store.names()) == []
    assert _tmp_files(store) == []


def test_disk_full_is_a_disk_full_error_with_a_hint(
    store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(src: Path, dst: Path, **options: Any) -> Copied:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(strata.objects.links, "copy_checked", full)
    with pytest.raises(DiskFullError) as info:
        store.add_file(write(tmp_path / "big", DATA), b3(DATA), what="big")
    assert info.value.exit_code == 10
    assert "disk full" in info.value.one_line()
    assert "free some space" in info.value.one_line()


def test_reading_a_corrupt_object_raises_object_corrupt_error(store: ObjectStore) -> None:
    name = store.add_bytes(DATA)
    corrupt(store.path(name))
    with pytest.raises(ObjectCorruptError) as info:
        store.read_bytes(name, what="the listing of data/raw")
    assert name[:12] in info.value.message
    assert "data/raw" in info.value.message
    assert not store.is_intact(name)


def test_reading_an_intact_object_verifies_it(store: ObjectStore) -> None:
    name = store.add_bytes(DATA)
    assert store.is_intact(name)
    assert store.read_bytes(name, what="x") == DATA


def test_reading_a_missing_object_raises_object_missing_error(store: ObjectStore) -> None:
    name = b3(b"never stored")
    with pytest.raises(ObjectMissingError) as info:
        store.read_bytes(name, what="data/raw.csv")
    assert name[:12] in info.value.message
    assert "strata pull" in info.value.one_line()
    assert not store.is_intact(name)


def test_clean_tmp_removes_only_stale_temp_files(store: ObjectStore) -> None:
    store.tmp_dir.mkdir(parents=True)
    stale, fresh = store.tmp_dir / "old.tmp", store.tmp_dir / "new.tmp"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(stale, (1, 1))
    assert store.clean_tmp() == 1
    assert not stale.exists()
    assert fresh.exists()


def test_arrivals_become_visible_together_when_the_batch_ends(store: ObjectStore) -> None:
    contents = [b"first", b"second"]
    with arrivals(store) as batch:
        for data in contents:
            batch.receive(b3(data), lambda tmp, data=data: tmp.write_bytes(data), what="x")
        assert not any(store.exists(b3(data)) for data in contents)
    for data in contents:
        assert store.path(b3(data)).read_bytes() == data
        assert not os.stat(store.path(b3(data))).st_mode & stat.S_IWUSR
    assert _tmp_files(store) == []


def test_a_corrupt_arrival_never_enters_the_cache(store: ObjectStore) -> None:
    name = b3(b"expected")
    with arrivals(store) as batch:
        with pytest.raises(ObjectCorruptError, match="arrived corrupt"):
            batch.receive(name, lambda tmp: tmp.write_bytes(b"tampered"), what="x")
        batch.receive(b3(b"fine"), lambda tmp: tmp.write_bytes(b"fine"), what="y")
    assert not store.exists(name) and store.exists(b3(b"fine"))
    assert _tmp_files(store) == []


def test_a_batch_cut_short_commits_nothing(store: ObjectStore) -> None:
    with pytest.raises(KeyboardInterrupt), arrivals(store) as batch:
        batch.receive(b3(b"a"), lambda tmp: tmp.write_bytes(b"a"), what="a")
        raise KeyboardInterrupt
    assert not store.exists(b3(b"a"))
    assert _tmp_files(store) == []


def _appending_after_copy(monkeypatch: pytest.MonkeyPatch, extra: bytes) -> list[Path]:
    """Make every copy into the cache see its source grow as it finishes, as when another
    program is still writing the file; returns the sources so touched."""
    real_copy = strata.objects.links.copy_checked
    touched: list[Path] = []

    def copy_then_append(src: Path, dst: Path, **options: Any) -> Copied:
        copied = real_copy(src, dst, **options)
        with open(src, "ab") as fh:
            fh.write(extra)
        touched.append(Path(src))
        return copied

    monkeypatch.setattr(strata.objects.links, "copy_checked", copy_then_append)
    return touched


def test_a_file_that_changes_while_hashed_and_copied_is_refused(
    store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write(tmp_path / "data.csv", DATA)
    hashed = FileStat.of(os.stat(src))
    touched = _appending_after_copy(monkeypatch, b"3,1\n")
    with pytest.raises(StorageError) as info:
        store.add_file_hashing(src, hashed, what="data.csv")
    assert touched == [src]
    assert "data.csv changed while it was being added" in info.value.one_line()
    assert list(store.names()) == []
    assert _tmp_files(store) == []


def test_a_large_copy_written_behind_in_windows_is_exact(
    store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(strata.objects.links, "WRITE_BEHIND_WINDOW", 64 * 1024)
    data = os.urandom(MULTITHREAD_MIN_SIZE + 64 * 1024 * 3 + 5)  # windows and a short tail
    src = write(tmp_path / "big.bin", data)
    name, link_type = store.add_file_hashing(src, FileStat.of(os.stat(src)), what="big.bin")
    assert (name, link_type) == (b3(data), "copy")
    assert store.path(name).read_bytes() == data
    assert store.add_file_hashing(src, FileStat.of(os.stat(src)), what="big.bin") == (name, None)
    assert _tmp_files(store) == []
