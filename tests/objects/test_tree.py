"""Directory listings: canonical serialisation that round-trips, and refusal of unsafe paths."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factories import b3
from strata.errors import ObjectCorruptError
from strata.objects import Tree, TreeEntry

_segment = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_characters="/\\", exclude_categories=("Cc", "Cs")
    ),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in (".", ".."))
_path = st.lists(_segment, min_size=1, max_size=4).map("/".join)
_hash = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
_entries = st.dictionaries(_path, st.tuples(_hash, st.integers(0, 2**53)), max_size=20).map(
    lambda d: [TreeEntry(p, h, s) for p, (h, s) in d.items()]
)


@given(_entries)
def test_tree_round_trips_through_bytes(entries: list[TreeEntry]) -> None:
    tree = Tree.build(entries)
    again = Tree.from_bytes(tree.to_bytes(), what="test")
    assert again == tree
    assert again.hash == tree.hash == b3(tree.to_bytes())


@given(_entries, st.randoms())
def test_tree_serialisation_does_not_depend_on_input_order(entries: list[TreeEntry], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    assert Tree.build(shuffled).to_bytes() == Tree.build(entries).to_bytes()


def test_tree_size_and_lookup() -> None:
    tree = Tree.build([TreeEntry("b/x.csv", "b" * 64, 5), TreeEntry("a.csv", "a" * 64, 7)])
    assert [e.path for e in tree.entries] == ["a.csv", "b/x.csv"]
    assert tree.size == 12
    assert tree.by_path()["b/x.csv"].hash == "b" * 64


def _listing(rows: list[list[object]]) -> bytes:
    return json.dumps({"format": 1, "files": rows}).encode()


@pytest.mark.parametrize(
    "path",
    [
        "../escape.csv",
        "a/../../escape.csv",
        "a/..",
        "/etc/passwd",
        "//server/share",
        "a\\..\\b",
        "",
        "a//b",
        "./a",
        "a/./b",
        "a/",
        "bad\x00name",
    ],
)
def test_a_stored_tree_with_an_unsafe_path_is_refused(path: str) -> None:
    data = _listing([["ok.csv", "a" * 64, 1], [path, "b" * 64, 2]])
    with pytest.raises(ObjectCorruptError) as info:
        Tree.from_bytes(data, what="data/raw")
    assert "data/raw" in info.value.message
    assert repr(path) in info.value.message


@pytest.mark.parametrize(
    "name", ["tab\there.csv", "line\nbreak.csv", "bell\x07.csv", "caf\udce9.csv"]
)
def test_a_tree_keeps_any_name_a_file_can_have(name: str) -> None:
    """Tabs, newlines, other control characters and undecodable bytes (as os.fsdecode gives
    them) all survive the listing's JSON."""
    tree = Tree.build([TreeEntry(f"sub/{name}", "a" * 64, 1)])
    assert Tree.from_bytes(tree.to_bytes(), what="data/raw") == tree


@pytest.mark.parametrize(
    "rows",
    [
        [["a.csv", "A" * 64, 1]],
        [["a.csv", "a" * 63, 1]],
        [["a.csv", "a" * 64, -1]],
        [["a.csv", "a" * 64]],
        [["a.csv", "a" * 64, "many"]],
    ],
    ids=["uppercase-hash", "short-hash", "negative-size", "missing-size", "bad-size"],
)
def test_a_stored_tree_with_a_bad_row_is_refused(rows: list[list[object]]) -> None:
    with pytest.raises(ObjectCorruptError):
        Tree.from_bytes(_listing(rows), what="data/raw")


@pytest.mark.parametrize(
    "data", [b"", b"not json", b"[]", b'{"format": 1}', b'{"files": 3}', b"\xff\xfe"]
)
def test_a_malformed_stored_tree_is_refused(data: bytes) -> None:
    with pytest.raises(ObjectCorruptError) as info:
        Tree.from_bytes(data, what="data/raw")
    assert "data/raw" in info.value.message


@pytest.mark.parametrize(
    "paths",
    [
        ["a.csv", "sub/b.csv", "z"],
        ["odd],[name.csv", "plain.csv"],  # a row separator inside a path: parsed whole
        ['quote",",name', "x"],  # JSON escapes it: never taken for a row's end
        ["only-one"],
    ],
)
def test_hashes_in_a_tree_are_those_of_its_entries(paths: list[str]) -> None:
    tree = Tree.build(TreeEntry(p, b3(p.encode()), n) for n, p in enumerate(paths))
    data = tree.to_bytes()
    assert Tree.hashes_in(data, what="t") == [e.hash for e in tree.entries]


def test_hashes_in_an_empty_or_malformed_tree() -> None:
    assert Tree.hashes_in(Tree.build([]).to_bytes(), what="t") == []
    with pytest.raises(ObjectCorruptError):
        Tree.hashes_in(b'{"format":1,"files":[["a","' + b"0" * 64 + b'",1', what="t")


def test_hashes_in_a_compact_tree_build_no_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    tree = Tree.build(TreeEntry(f"f{n}.bin", b3(str(n).encode()), n) for n in range(100))
    data = tree.to_bytes()

    def refuse(*args: object, **kwargs: object) -> Tree:
        raise AssertionError("the whole tree was parsed")

    monkeypatch.setattr(Tree, "from_bytes", refuse)
    assert Tree.hashes_in(data, what="t") == [e.hash for e in tree.entries]
