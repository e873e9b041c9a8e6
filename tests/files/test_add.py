"""``strata add``: objects into the cache, a pointer beside each path, a .gitignore entry, and a
version in the metadata database."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

import strata.files.add
import strata.objects.links
from factories import (
    Cli,
    WorkspaceFactory,
    assert_one_line_error,
    b3,
    cache_objects,
    commit_all,
    git,
    make_folder,
    write,
)
from strata.errors import StorageError
from strata.files import POINTER_SUFFIX
from strata.objects import Tree
from strata.objects.links import Copied

HEADER = "# Strata pointer: commit this file; the data is in the cache and on remotes."


def test_add_file_writes_the_pointer(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace()
    data = b"delivery_id,delay\n1,4\n"
    write(ws.root / "data.csv", data)
    [result] = ws.files.add(["data.csv"])
    text = (ws.root / "data.csv.strata").read_text()
    assert text == (
        f"{HEADER}\n"
        "format = 1\n"
        'path = "data.csv"\n'
        'kind = "file"\n'
        f'hash = "{b3(data)}"\n'
        f"size = {len(data)}\n"
        "files = 1\n"
    )
    assert (result.path, result.kind, result.hash, result.size, result.files) == (
        "data.csv",
        "file",
        b3(data),
        len(data),
        1,
    )
    assert cache_objects(ws.config.cache_dir) == {b3(data)}


def test_pointer_keys_come_in_a_stable_order(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace()
    make_folder(ws.root / "raw", {"b.csv": "2\n", "a.csv": "1\n"})
    ws.files.add(["raw"])
    doc = tomllib.loads((ws.root / "raw.strata").read_text())
    assert list(doc) == ["format", "path", "kind", "hash", "size", "files"]


def test_adding_again_unchanged_rewrites_the_same_pointer(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace()
    make_folder(ws.root / "raw", {"b.csv": "2\n", "a.csv": "1\n", "sub/c.csv": "3\n"})
    ws.files.add(["raw"])
    first = (ws.root / "raw.strata").read_bytes()
    [again] = make_workspace.open(ws.root).files.add(["raw"])
    assert (ws.root / "raw.strata").read_bytes() == first
    assert again.new_objects == 0


def test_add_folder_stores_every_file_and_a_listing(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace()
    files = {"a.csv": b"1\n", "b.csv": b"22\n", "sub/c.csv": b"333\n", "sub/deep/d.csv": b""}
    make_folder(ws.root / "data" / "raw", files)
    [result] = ws.files.add(["data/raw"])
    doc = tomllib.loads((ws.root / "data" / "raw.strata").read_text())
    assert doc["format"] == 1
    assert doc["path"] == "raw"
    assert doc["kind"] == "directory"
    assert doc["files"] == 4
    assert doc["size"] == sum(len(v) for v in files.values())
    assert doc["hash"] == result.hash
    listing = ws.store.read_bytes(result.hash, what="test")
    assert b3(listing) == result.hash
    tree = Tree.from_bytes(listing, what="test")
    assert {e.path: (e.hash, e.size) for e in tree.entries} == {
        k: (b3(v), len(v)) for k, v in files.items()
    }
    assert cache_objects(ws.config.cache_dir) == {b3(v) for v in files.values()} | {result.hash}


def test_add_puts_the_path_in_gitignore_once(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace()
    write(ws.root / "data" / "raw.csv", "1\n")
    write(ws.root / "data" / ".gitignore", "*.tmp")  # no final newline
    ws.files.add(["data/raw.csv"])
    write(ws.root / "data" / "raw.csv", "2\n")
    ws.files.add(["data/raw.csv"])
    assert (ws.root / "data" / ".gitignore").read_text() == "*.tmp\n/raw.csv\n"
    assert git(ws.root, "check-ignore", "data/raw.csv").strip() == "data/raw.csv"
    visible = git(ws.root, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert "?? data/raw.csv.strata" in visible
    assert "?? data/.gitignore" in visible
    assert not [line for line in visible if line.endswith("data/raw.csv")]


def test_add_records_each_version_in_the_metadata_database(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace()
    write(ws.root / "data.csv", "v1\n")
    ws.files.add(["data.csv"])
    write(ws.root / "data.csv", "version 2\n")
    ws.files.add(["data.csv"])
    ws.files.add(["data.csv"])  # unchanged: no new version
    make_folder(ws.root / "raw", {"a": "1", "b": "22"})
    [folder] = ws.files.add(["raw"])
    versions = make_workspace.open(ws.root).files.versions("data.csv")
    assert [(v.path, v.hash, v.kind, v.size, v.files) for v in versions] == [
        ("data.csv", b3(b"v1\n"), "file", 3, 1),
        ("data.csv", b3(b"version 2\n"), "file", 10, 1),
    ]
    [raw] = ws.files.versions("raw")
    assert (raw.hash, raw.kind, raw.size, raw.files) == (folder.hash, "directory", 3, 2)


def test_add_of_a_path_inside_a_subfolder_is_relative_to_the_current_folder(
    make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    ws = make_workspace()
    write(ws.root / "data" / "x.csv", "1\n")
    out = cli("add", "x.csv", "--json", cwd=ws.root / "data")
    assert out.code == 0, out.stderr
    assert [r["path"] for r in out.json()] == ["data/x.csv"]  # type: ignore[union-attr,index]
    assert (ws.root / "data" / "x.csv.strata").is_file()


def test_add_json_output(make_workspace: WorkspaceFactory, cli: Cli) -> None:
    ws = make_workspace()
    make_folder(ws.root / "raw", {"a": "1", "b": "22"})
    out = cli("add", "raw", "--json", cwd=ws.root)
    assert out.code == 0, out.stderr
    [row] = json.loads(out.stdout)
    assert row["path"] == "raw"
    assert row["kind"] == "directory"
    assert row["files"] == 2
    assert row["size"] == 3
    assert row["hash"] == tomllib.loads((ws.root / "raw.strata").read_text())["hash"]
    assert row["new_objects"] >= 2  # both files were new


def test_committed_pointer_diff_is_one_hash_and_size_change(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace()
    old, new = b"v1\n", b"version 2\n"
    write(ws.root / "data.csv", old)
    ws.files.add(["data.csv"])
    commit_all(ws.root, "v1")
    write(ws.root / "data.csv", new)
    ws.files.add(["data.csv"])
    changed = [
        line
        for line in git(ws.root, "diff", "--unified=0", "data.csv" + POINTER_SUFFIX).splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == [
        f'-hash = "{b3(old)}"',
        "-size = 3",
        f'+hash = "{b3(new)}"',
        "+size = 10",
    ]


def test_add_refuses_a_name_a_listing_cannot_hold_naming_it(
    make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    """A backslash would read as a separator elsewhere: refused at add time, nothing cached."""
    ws = make_workspace()
    make_folder(ws.root / "raw", {"a.csv": "1\n", "sub/b\\c.csv": "2\n"})
    out = cli("add", "raw", cwd=ws.root)
    assert_one_line_error(out, 2, "cannot add raw/sub/b\\c.csv", "backslash")
    assert not (ws.root / "raw.strata").exists()
    assert cache_objects(ws.root / ".strata" / "cache") == set()


def test_add_refuses_a_tracked_path_with_a_newline_naming_it(
    make_workspace: WorkspaceFactory, cli: Cli
) -> None:
    """The tracked path itself goes into its pointer and a .gitignore line, which hold no
    newline."""
    ws = make_workspace()
    write(ws.root / "bad\nname.csv", "1\n")
    out = cli("add", "bad\nname.csv", cwd=ws.root)
    assert_one_line_error(out, 2, "bad\\nname.csv", "control character")
    assert not (ws.root / "bad\nname.csv.strata").exists()
    assert cache_objects(ws.root / ".strata" / "cache") == set()


def test_a_large_file_that_changes_while_added_is_refused_and_nothing_is_tracked(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(strata.files.add, "HASH_WHILE_COPYING_SIZE", 1024)
    ws = make_workspace(cache_type="copy")
    data = b"delivery_id,delay\n" + b"1,4\n" * 1024
    write(ws.root / "data.csv", data)
    real_copy = strata.objects.links.copy_checked

    def copy_while_written(src: Path, dst: Path, **options: Any) -> Copied:
        copied = real_copy(src, dst, **options)
        with open(src, "ab") as fh:  # the program writing it is not done yet
            fh.write(b"2,9\n")
        return copied

    monkeypatch.setattr(strata.objects.links, "copy_checked", copy_while_written)
    with pytest.raises(StorageError) as info:
        ws.files.add(["data.csv"])
    assert "data.csv changed while it was being added" in info.value.one_line()
    assert not (ws.root / "data.csv.strata").exists()
    assert cache_objects(ws.config.cache_dir) == set()
    assert ws.files.status() == []  # nothing tracked
