"""Link types: hardlink shares the inode read-only, copy is independent, and a link type that
cannot work here (the cache on another filesystem) falls back to the next one."""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from factories import WorkspaceFactory, b3, write
from strata import Workspace
from strata.errors import StorageError

DATA = b"x,y\n" * 2048


def _object(ws: Workspace, data: bytes) -> Path:
    name = b3(data)
    return ws.config.cache_dir / name[:2] / name[2:]


def _writable(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o222 != 0


def test_hardlink_add_shares_the_inode_and_makes_the_file_read_only(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(cache_type="hardlink")
    path = write(ws.root / "data.csv", DATA)
    [result] = ws.files.add(["data.csv"])
    obj = _object(ws, DATA)
    assert result.link_type == "hardlink"
    assert path.stat().st_ino == obj.stat().st_ino
    assert not _writable(path)
    assert not _writable(obj)


def test_hardlink_checkout_shares_the_inode_read_only(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(cache_type="hardlink")
    path = write(ws.root / "data.csv", DATA)
    ws.files.add(["data.csv"])
    path.unlink()
    ws.files.checkout()
    assert path.read_bytes() == DATA
    assert path.stat().st_ino == _object(ws, DATA).stat().st_ino
    assert not _writable(path)


def test_copy_add_leaves_an_independent_writable_file(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(cache_type="copy")
    path = write(ws.root / "data.csv", DATA)
    [result] = ws.files.add(["data.csv"])
    obj = _object(ws, DATA)
    assert result.link_type == "copy"
    assert path.stat().st_ino != obj.stat().st_ino
    assert _writable(path)
    assert not _writable(obj)
    with open(path, "r+b") as fh:  # an edit in place must not reach the cache
        fh.write(b"edited")
    assert obj.read_bytes() == DATA
    assert ws.store.is_intact(b3(DATA))


def test_copy_checkout_writes_an_independent_file(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(cache_type="copy")
    path = write(ws.root / "data.csv", DATA)
    ws.files.add(["data.csv"])
    path.unlink()
    ws.files.checkout()
    assert path.read_bytes() == DATA
    assert path.stat().st_ino != _object(ws, DATA).stat().st_ino
    with open(path, "r+b") as fh:
        fh.write(b"edited")
    assert ws.store.is_intact(b3(DATA))


@pytest.mark.parametrize(
    ("cache_type", "expected"),
    [
        ("hardlink", {"hardlink"}),
        ("copy", {"copy"}),
        ("hardlink,copy", {"hardlink"}),
        ("reflink,copy", {"reflink", "copy"}),
    ],
)
def test_cache_type_config_chooses_the_link_type(
    make_workspace: WorkspaceFactory, cache_type: str, expected: set[str]
) -> None:
    ws = make_workspace(cache_type=cache_type)
    write(ws.root / "d" / "a.csv", DATA)
    write(ws.root / "d" / "b.csv", DATA + b"more")
    [result] = ws.files.add(["d"])
    assert result.link_type in expected
    assert ws.files.status() and all(s.state == "unchanged" for s in ws.files.status())


def test_cache_type_from_environment_overrides_the_config(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(cache_type="hardlink")
    monkeypatch.setenv("STRATA_CACHE_TYPE", "copy")
    ws = make_workspace.open(ws.root)
    path = write(ws.root / "data.csv", DATA)
    [result] = ws.files.add(["data.csv"])
    assert result.link_type == "copy"
    assert path.stat().st_ino != _object(ws, DATA).stat().st_ino


@pytest.mark.skipif(os.geteuid() != 0, reason="only the superuser can write read-only files")
def test_the_superuser_gets_no_hardlinks_by_default(make_workspace: WorkspaceFactory) -> None:
    """Read-only bits do not stop root: an edit in place would reach a hardlinked object."""
    ws = make_workspace()
    path = write(ws.root / "data.csv", DATA)
    [result] = ws.files.add(["data.csv"])
    assert result.link_type != "hardlink"
    with open(path, "r+b") as fh:
        fh.write(b"edited in place")
    assert ws.store.is_intact(b3(DATA))


@pytest.fixture
def other_fs_cache(tmp_path: Path) -> Iterator[Path]:
    """A cache folder on a different filesystem than the workspace (tmpfs /dev/shm)."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        pytest.skip("/dev/shm is not available to put the cache on another filesystem")
    if shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("/dev/shm is on the same filesystem as the temp folder")
    cache = shm / f"strata-test-{uuid.uuid4().hex}"
    yield cache
    shutil.rmtree(cache, ignore_errors=True)


def test_hardlink_falls_back_to_copy_across_filesystems(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch, other_fs_cache: Path
) -> None:
    ws = make_workspace(cache_type="hardlink,copy")
    monkeypatch.setenv("STRATA_CACHE_DIR", str(other_fs_cache))
    ws = make_workspace.open(ws.root)
    path = write(ws.root / "data.csv", DATA)
    [result] = ws.files.add(["data.csv"])
    obj = other_fs_cache / b3(DATA)[:2] / b3(DATA)[2:]
    assert result.link_type == "copy"
    assert obj.read_bytes() == DATA
    path.unlink()
    ws.files.checkout()
    assert path.read_bytes() == DATA
    assert path.stat().st_dev != obj.stat().st_dev


def test_hardlink_only_across_filesystems_is_a_storage_error(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch, other_fs_cache: Path
) -> None:
    ws = make_workspace(cache_type="hardlink")
    monkeypatch.setenv("STRATA_CACHE_DIR", str(other_fs_cache))
    ws = make_workspace.open(ws.root)
    write(ws.root / "data.csv", DATA)
    with pytest.raises(StorageError) as info:
        ws.files.add(["data.csv"])
    assert "data.csv" in info.value.message
    assert not (ws.root / "data.csv.strata").exists()


def test_writing_pieces_gives_the_file_and_its_whole_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from strata.objects import links

    monkeypatch.setattr(links, "WRITE_BEHIND_WINDOW", 3 * 4096)  # several write-behind ranges
    monkeypatch.setattr(links, "HASH_PENDING", 2)  # the writer waits for the hasher
    pieces = [os.urandom(4096 + n) for n in range(40)]
    target = tmp_path / "out"
    digest = links.write_hashing(iter(pieces), target)
    assert target.read_bytes() == b"".join(pieces)
    assert digest == b3(b"".join(pieces))


def test_a_failing_source_of_pieces_stops_the_write_with_its_error(tmp_path: Path) -> None:
    from strata.objects import links

    def pieces() -> Iterator[bytes]:
        yield b"a" * 5000
        raise StorageError("chunk 1 of object x is corrupt")

    with pytest.raises(StorageError, match="corrupt"):
        links.write_hashing(pieces(), tmp_path / "out")
