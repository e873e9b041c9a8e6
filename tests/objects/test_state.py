"""The state cache: (inode, mtime, size) → hash, so an unchanged file is never hashed twice."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import strata.files.scan
from factories import WorkspaceFactory, make_folder, write
from strata.objects import FileStat, StateCache


class HashCounter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[Path] = []
        real = strata.files.scan.hash_file

        def counting(path: Path, size: int | None = None) -> str:
            self.paths.append(Path(path))
            return real(path, size)

        monkeypatch.setattr(strata.files.scan, "hash_file", counting)


@pytest.mark.parametrize("cache_type", ["copy", "hardlink"])
def test_status_of_unchanged_files_hashes_nothing(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch, cache_type: str
) -> None:
    ws = make_workspace(cache_type=cache_type)
    make_folder(ws.root / "d", {f"part-{i}.csv": f"row {i}\n" * 50 for i in range(5)})
    write(ws.root / "single.csv", "a,b\n")
    ws.files.add(["d", "single.csv"])
    counter = HashCounter(monkeypatch)
    fresh = make_workspace.open(ws.root)  # as a new `strata status` process
    assert {s.state for s in fresh.files.status()} == {"unchanged"}
    assert counter.paths == []


def test_status_rehashes_only_the_changed_file(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(cache_type="copy")
    make_folder(ws.root / "d", {f"part-{i}.csv": f"row {i}\n" * 50 for i in range(5)})
    ws.files.add(["d"])
    write(ws.root / "d" / "part-3.csv", "changed\n")
    counter = HashCounter(monkeypatch)
    [st] = make_workspace.open(ws.root).files.status()
    assert st.state == "modified"
    assert counter.paths == [ws.root / "d" / "part-3.csv"]


def test_a_new_mtime_with_the_same_contents_is_hashed_again(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(cache_type="copy")
    path = write(ws.root / "data.csv", "a,b\n")
    ws.files.add(["data.csv"])
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    counter = HashCounter(monkeypatch)
    [status] = make_workspace.open(ws.root).files.status()
    assert status.state == "unchanged"
    assert counter.paths == [path]
    counter.paths.clear()
    make_workspace.open(ws.root).files.status()
    assert counter.paths == []  # and remembered for next time


def test_checkout_records_what_it_wrote(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(cache_type="copy")
    make_folder(ws.root / "d", {"a.csv": "1\n", "b.csv": "2\n"})
    ws.files.add(["d"])
    (ws.root / "d" / "a.csv").unlink()
    ws.files.checkout()
    counter = HashCounter(monkeypatch)
    assert {s.state for s in make_workspace.open(ws.root).files.status()} == {"unchanged"}
    assert counter.paths == []


def test_state_cache_lookup_matches_inode_mtime_and_size(tmp_path: Path) -> None:
    cache = StateCache(tmp_path / "state.db")
    try:
        known = FileStat(inode=7, mtime_ns=100, size=3)
        cache.save([(known, "a" * 64)])
        assert cache.get(known) == "a" * 64
        assert cache.get(known._replace(mtime_ns=101)) is None
        assert cache.get(known._replace(size=4)) is None
        assert cache.get(known._replace(inode=8)) is None
    finally:
        cache.close()
    reopened = StateCache(tmp_path / "state.db")
    try:
        assert reopened.get(FileStat(7, 100, 3)) == "a" * 64
    finally:
        reopened.close()
