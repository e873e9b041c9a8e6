"""Chunking through a bounded window cuts a file exactly where FastCDC cuts it whole, and
hashing through a buffer gives the file's BLAKE3."""

from __future__ import annotations

import random
from pathlib import Path

import blake3
import pytest
from pyfastcdc import FastCDC

from strata.objects import chunks, hashing
from strata.objects.chunks import AVG_CHUNK, MAX_CHUNK, MIN_CHUNK


def _whole_file_cuts(path: Path) -> list[tuple[int, int]]:
    cutter = FastCDC(AVG_CHUNK, min_size=MIN_CHUNK, max_size=MAX_CHUNK)
    return [(piece.offset, piece.length) for piece in cutter.cut_buf(path.read_bytes())]


def _content(size: int, seed: int) -> bytes:
    """Random bytes with repeats in them, so that some chunks end at MAX_CHUNK and some early."""
    rng = random.Random(seed)
    block = rng.randbytes(3 * MAX_CHUNK)
    repeated = bytes(MAX_CHUNK + 12345)  # zeros: no content-defined cut, the size cap cuts
    data = (block + repeated + block[: MAX_CHUNK // 3]) * (size // len(block) + 1)
    return data[:size]


@pytest.mark.parametrize(
    "size",
    [0, 1, MIN_CHUNK - 1, 2 * MAX_CHUNK, 2 * MAX_CHUNK + 1, 3 * MAX_CHUNK - 7, 6 * MAX_CHUNK + 5],
)
def test_windowed_chunks_are_the_whole_files_chunks(
    size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "WINDOW", 2 * MAX_CHUNK)  # several windows in a small file
    path = tmp_path / "data"
    path.write_bytes(_content(size, seed=size))
    found = list(chunks.split(path))
    expected = _whole_file_cuts(path)
    assert [c.size for c, _ in found] == [length for _, length in expected]
    content = path.read_bytes()
    assert b"".join(data for _, data in found) == content
    for (chunk, data), (offset, length) in zip(found, expected, strict=True):
        assert data == content[offset : offset + length]
        assert chunk.hash == hashing.hash_bytes(data)


@pytest.mark.parametrize("size", [0, 5, hashing.MULTITHREAD_MIN_SIZE + 3, 20 * 1024 * 1024 + 1])
def test_hashing_through_a_buffer_is_the_files_blake3(size: int, tmp_path: Path) -> None:
    path = tmp_path / "data"
    content = _content(size, seed=7)
    path.write_bytes(content)
    assert hashing.hash_file(path) == blake3.blake3(content).hexdigest()


@pytest.mark.parametrize("size", [9 * MAX_CHUNK + 17, 12 * MAX_CHUNK])
def test_a_large_files_second_half_cut_by_a_thread_gives_the_whole_files_chunks(
    size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "WINDOW", 2 * MAX_CHUNK)
    monkeypatch.setattr(chunks, "PARALLEL_MIN", 4 * MAX_CHUNK)
    switched: list[int] = []
    views = chunks._views

    def recording_views(fd: int, boundaries: list[int]) -> object:
        switched.append(boundaries[0])
        return views(fd, boundaries)

    monkeypatch.setattr(chunks, "_views", recording_views)
    path = tmp_path / "data"
    rng = random.Random(size)
    path.write_bytes(rng.randbytes(size))
    found = list(chunks.split(path))
    assert [c.size for c, _ in found] == [length for _, length in _whole_file_cuts(path)]
    assert b"".join(data for _, data in found) == path.read_bytes()
    assert all(chunk.hash == hashing.hash_bytes(data) for chunk, data in found)
    # the thread's boundaries were taken up just past the middle, where the two met
    [taken] = switched
    middle = size // 2 // (2 * MAX_CHUNK) * (2 * MAX_CHUNK)
    assert middle <= taken < middle + 4 * MAX_CHUNK


def test_when_the_second_cutter_fails_the_first_cuts_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "WINDOW", 2 * MAX_CHUNK)
    monkeypatch.setattr(chunks, "PARALLEL_MIN", 4 * MAX_CHUNK)

    def failing(*args: object) -> list[int]:
        raise OSError("cannot read")

    monkeypatch.setattr(chunks, "_cut_ends", failing)
    path = tmp_path / "data"
    path.write_bytes(_content(9 * MAX_CHUNK + 5, seed=3))
    found = list(chunks.split(path))
    assert [c.size for c, _ in found] == [length for _, length in _whole_file_cuts(path)]
    assert b"".join(data for _, data in found) == path.read_bytes()
