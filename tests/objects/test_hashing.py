"""BLAKE3 hashing: the same digests as the blake3 library, whichever path hash_file takes."""

from __future__ import annotations

import os
from pathlib import Path

import blake3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strata.objects import hash_bytes, hash_file, is_hash
from strata.objects.hashing import MULTITHREAD_MIN_SIZE, hash_path


def _reference(data: bytes) -> str:
    return str(blake3.blake3(data).hexdigest())


@given(st.binary(max_size=4096))
def test_hash_bytes_matches_blake3(data: bytes) -> None:
    assert hash_bytes(data) == _reference(data)


@pytest.mark.parametrize(
    "size",
    [
        0,
        1,
        1024 * 1024 + 7,
        MULTITHREAD_MIN_SIZE - 1,
        MULTITHREAD_MIN_SIZE,
        MULTITHREAD_MIN_SIZE + 3,
    ],
    ids=["empty", "one-byte", "over-one-read", "below-mmap", "at-mmap", "above-mmap"],
)
def test_hash_file_matches_blake3(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    assert hash_file(path) == _reference(data)
    assert hash_file(path, size) == _reference(data)


def test_different_contents_hash_differently(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"version 1")
    b.write_bytes(b"version 2")
    assert hash_file(a) != hash_file(b)


def test_is_hash_accepts_only_64_lowercase_hex_digits() -> None:
    good = _reference(b"x")
    assert is_hash(good)
    assert not is_hash(good.upper())
    assert not is_hash(good[:-1])
    assert not is_hash(good + "0")
    assert not is_hash("g" * 64)


def test_objects_are_sharded_by_the_first_two_hex_digits(tmp_path: Path) -> None:
    name = _reference(b"x")
    assert hash_path(tmp_path, name) == tmp_path / name[:2] / name[2:]
