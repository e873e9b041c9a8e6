"""Packs on a remote: many objects in few files, verified on every read; a corrupt pack is
named by the paths that use it, a lying index is never trusted, and ``gc --cloud`` removes
or rewrites packs that hold garbage."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest

from factories import Cli, WorkspaceFactory, b3, commit_all, git, make_folder, write
from pack_support import pack_path, packs, rewrite_index, tamper
from strata import Workspace
from strata.objects import remote as remote_module
from strata.objects.packs import PackEntry, PackIndex

MiB = 1024 * 1024


def _digest(ws: Workspace, path: str) -> str:
    return str(tomllib.loads((ws.root / f"{path}.strata").read_text())["hash"])


def _workspace(make_workspace: WorkspaceFactory, remote: Path, **options: int) -> Workspace:
    ws = make_workspace()
    ws.remotes.add("shared", str(remote), default=True)
    for key, value in options.items():
        ws.remotes.modify("shared", key, str(value))
    return ws


def _remote_files(remote: Path) -> list[Path]:
    return [p for p in remote.rglob("*") if p.is_file() and "repos" not in p.parts]


def _clone(ws: Workspace, make_workspace: WorkspaceFactory) -> Workspace:
    clone = ws.root.parent / "clone"
    git(ws.root.parent, "clone", "-q", str(ws.root), str(clone))
    return make_workspace.open(clone)


def test_many_small_files_travel_as_one_pack(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    remote = tmp_path / "remote"
    ws = _workspace(make_workspace, remote)
    files = {f"f{n:03}.txt": f"row {n}\n" for n in range(300)}
    make_folder(ws.root / "raw", files)
    ws.files.add(["raw"])
    commit_all(ws.root, "raw")
    pushed = ws.remotes.push()
    assert len(pushed.transferred) == 301  # the files and the folder's listing
    [(name, index)] = packs(ws.remotes.open()).items()
    assert sorted(p.name for p in _remote_files(remote)) == [f"{name}.idx", f"{name}.pack"]
    assert {e.name for e in index.entries} == {b3(v.encode()) for v in files.values()} | {
        _digest(ws, "raw")
    }
    clone = _clone(ws, make_workspace)
    fetched, _ = clone.remotes.pull()
    assert fetched.failed == ()
    assert {p: (clone.root / "raw" / p).read_text() for p in files} == files


def test_a_large_file_is_a_few_packs_not_a_file_per_chunk(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    remote = tmp_path / "remote"
    ws = _workspace(make_workspace, remote, chunk_threshold=MiB, pack_size=8 * MiB)
    data = os.urandom(24 * MiB)
    write(ws.root / "big.bin", data)
    ws.files.add(["big.bin"])
    commit_all(ws.root, "big")
    ws.remotes.push()
    listing = ws.remotes.open().listing()
    chunks = ws.remotes.open().manifest(b3(data)).chunks
    assert len(chunks) > 12  # about 1 MiB each
    assert 2 <= len(listing.packs) <= 4
    assert len(_remote_files(remote)) == 2 * len(listing.packs)
    clone = _clone(ws, make_workspace)
    assert clone.remotes.pull()[0].failed == ()
    assert (clone.root / "big.bin").read_bytes() == data


def test_a_folder_push_puts_each_pack_and_index_on_disk_before_naming_them(
    make_workspace: WorkspaceFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = tmp_path / "remote"
    ws = _workspace(make_workspace, remote, chunk_threshold=MiB, pack_size=2 * MiB)
    write(ws.root / "big.bin", os.urandom(8 * MiB))
    ws.files.add(["big.bin"])
    commit_all(ws.root, "big")
    synced: list[str] = []
    fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    ws.remotes.push()
    names = [p.stem for p in (remote / "packs").glob("*.idx")]
    assert len(names) >= 3
    assert sum(path.endswith(".pack.tmp") for path in synced) == len(names)
    for name in names:
        assert str(remote / "tmp" / f"{name}.idx.tmp") in synced
    assert not list((remote / "tmp").glob("*.idx.tmp"))  # each renamed into place


def test_a_corrupt_pack_is_named_by_the_paths_that_use_it(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    remote = tmp_path / "remote"
    ws = _workspace(make_workspace, remote, chunk_threshold=MiB)
    write(ws.root / "big.bin", os.urandom(3 * MiB))
    write(ws.root / "notes.txt", "notes")
    ws.files.add(["big.bin", "notes.txt"])
    commit_all(ws.root, "data")
    ws.remotes.push()
    shared = ws.remotes.open()
    big = _digest(ws, "big.bin")
    chunk = shared.manifest(big).chunks[1].hash
    tamper(shared, chunk)
    tamper(shared, _digest(ws, "notes.txt"))

    out = cli("verify", "--remote", cwd=ws.root)
    assert out.code == 9
    assert f"corrupt  {big[:12]}  big.bin" in out.stdout
    assert "notes.txt" in out.stdout
    clone = ws.root.parent / "clone"
    git(ws.root.parent, "clone", "-q", str(ws.root), str(clone))
    pulled = cli("pull", "--json", cwd=clone)
    assert pulled.code != 0
    failed = {f["path"]: f["kind"] for f in pulled.json()["failed"]}  # type: ignore[index]
    assert failed == {"big.bin": "corrupt", "notes.txt": "corrupt"}
    assert not (clone / "big.bin").exists() and not (clone / "notes.txt").exists()


def _one_pack(ws: Workspace) -> tuple[str, PackIndex]:
    [(name, index)] = packs(ws.remotes.open()).items()
    return name, index


def _pushed_pair(make_workspace: WorkspaceFactory, remote: Path) -> Workspace:
    ws = _workspace(make_workspace, remote)
    write(ws.root / "a.txt", "first file")
    write(ws.root / "b.txt", "second file, longer")
    ws.files.add(["a.txt", "b.txt"])
    commit_all(ws.root, "data")
    ws.remotes.push()
    return ws


def test_an_index_altered_after_it_was_written_is_not_trusted(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    remote = tmp_path / "remote"
    ws = _pushed_pair(make_workspace, remote)
    name, _ = _one_pack(ws)
    idx = remote / "packs" / f"{name}.idx"
    doc = json.loads(idx.read_bytes())
    doc["objects"][0][1] += 1  # an offset that lies; the name no longer matches
    idx.write_bytes(json.dumps(doc).encode())
    (ws.store.root / "pack-indexes" / name).unlink()  # no trusted copy here

    out = cli("verify", "--remote", "--json", cwd=ws.root)
    assert out.code == 9
    assert [p["hash"] for p in out.json()["problems"]] == [name]  # type: ignore[index]
    assert ws.remotes.open().listing().names == set(), "nothing in that pack counts"
    assert len(ws.remotes.push().transferred) == 2, "a push sends the objects again"
    assert ws.remotes.verify().ok, "the same pack again, under the same name: the lie is gone"
    clone = _clone(ws, make_workspace)
    assert clone.remotes.pull()[0].failed == ()
    assert (clone.root / "b.txt").read_text() == "second file, longer"


def test_an_index_that_lies_under_its_own_name_is_caught_on_read(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    """An index written wrongly from the start (its name matches it): every entry is checked
    against its hash when read, so the lie shows as corruption, named by path."""
    remote = tmp_path / "remote"
    ws = _pushed_pair(make_workspace, remote)
    name, index = _one_pack(ws)
    first, second = index.entries
    swapped = (
        PackEntry(first.name, second.offset, first.size),
        PackEntry(second.name, first.offset, second.size),
    )
    rewrite_index(ws.remotes.open(), name, PackIndex(swapped, index.size))
    out = cli("verify", "--remote", cwd=ws.root)
    assert out.code == 9
    assert "a.txt" in out.stdout and "b.txt" in out.stdout
    clone = _clone(ws, make_workspace)
    fetched, restored = clone.remotes.pull()
    assert {(f.path, f.kind) for f in fetched.failed} == {
        ("a.txt", "corrupt"),
        ("b.txt", "corrupt"),
    }
    assert restored == [] and not clone.store.exists(b3(b"first file"))


def test_an_index_naming_bytes_past_the_pack_end_is_refused(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    remote = tmp_path / "remote"
    ws = _pushed_pair(make_workspace, remote)
    name, index = _one_pack(ws)
    first, second = index.entries
    beyond = (first, PackEntry(second.name, index.size, second.size))
    doc = json.loads(PackIndex((first, second), index.size).to_bytes())
    doc["objects"] = [[e.name, e.offset, e.size] for e in beyond]
    lying = json.dumps(doc, separators=(",", ":")).encode()
    new = b3(lying)
    shared = ws.remotes.open()
    shared.fs.pipe_file(pack_path(shared, new), shared.fs.cat_file(pack_path(shared, name)))
    shared.fs.pipe_file(pack_path(shared, new, ".idx"), lying)
    for suffix in (".idx", ".pack"):
        shared.fs.rm_file(pack_path(shared, name, suffix))
    problems = ws.remotes.verify().problems
    assert [p.hash for p in problems] == [new]
    assert ws.remotes.open().listing().names == set()
    assert ws.remotes.gc().packs_removed == 1, "gc --cloud removes the untrusted pack"
    assert not list((remote / "packs").iterdir())


def test_gc_cloud_rewrites_a_pack_that_is_mostly_garbage(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    remote = tmp_path / "remote"
    ws = _workspace(make_workspace, remote)
    commit_all(ws.root, "remote")
    git(ws.root, "checkout", "-q", "-b", "experiment")
    write(ws.root / "keep.txt", "kept")
    write(ws.root / "model.bin", os.urandom(256 * 1024))
    ws.files.add(["keep.txt", "model.bin"])
    commit_all(ws.root, "both")
    ws.remotes.push()  # one pack: keep.txt and the model
    old, before = _one_pack(ws)
    git(ws.root, "checkout", "-q", "main")
    write(ws.root / "keep.txt", "kept")
    ws.files.add(["keep.txt"])
    commit_all(ws.root, "only keep.txt")
    git(ws.root, "branch", "-D", "experiment")  # no ref keeps the model now
    result = ws.remotes.gc()
    assert result.packs_rewritten == 1 and result.bytes_freed >= 256 * 1024
    new, after = _one_pack(ws)
    assert new != old and not (remote / "packs" / f"{old}.pack").exists()
    assert [e.name for e in after.entries] == [b3(b"kept")]
    assert after.size < before.size / 10
    assert ws.remotes.verify().ok


def test_gc_cloud_removes_old_stray_packs_and_keeps_fresh_ones(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    remote = tmp_path / "remote"
    ws = _pushed_pair(make_workspace, remote)
    old = remote / "packs" / f"{b3(b'old stray')}.pack"
    fresh = remote / "packs" / f"{b3(b'fresh stray')}.pack"
    old.write_bytes(b"left by a push killed long ago")
    fresh.write_bytes(b"a push in progress")
    two_hours_ago = old.stat().st_mtime - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    result = ws.remotes.gc()
    assert result.packs_removed == 1
    assert not old.exists() and fresh.exists()
    assert ws.remotes.verify().ok


def test_pack_indexes_read_once_are_kept_locally_and_checked(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    remote = tmp_path / "remote"
    ws = _pushed_pair(make_workspace, remote)
    name, _ = _one_pack(ws)
    kept = ws.store.root / "pack-indexes" / name
    assert kept.read_bytes() == (remote / "packs" / f"{name}.idx").read_bytes()
    kept.write_bytes(b'{"format":1,"size":0,"objects":[],"manifests":[]}')  # not its name
    assert ws.remotes.open().listing().names == {b3(b"first file"), b3(b"second file, longer")}
    assert kept.read_bytes() == (remote / "packs" / f"{name}.idx").read_bytes()


def test_a_bad_pack_size_setting_is_a_one_line_error(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    ws = _workspace(make_workspace, tmp_path / "remote")
    ws.remotes.modify("shared", "pack_size", "big")
    write(ws.root / "a.txt", "a")
    ws.files.add(["a.txt"])
    commit_all(ws.root, "a")
    out = cli("push", cwd=ws.root)
    assert out.code != 0
    assert "pack_size must be a number of bytes" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "remote" / "packs").exists()


def test_an_object_of_one_chunk_keeps_its_manifest_apart_from_its_chunk(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    """Smaller than the least chunk yet over the threshold: its one chunk has the object's
    own name, like its manifest."""
    ws = _workspace(make_workspace, tmp_path / "remote", chunk_threshold=64 * 1024)
    data = os.urandom(100 * 1024)
    write(ws.root / "small-but-chunked.bin", data)
    ws.files.add(["small-but-chunked.bin"])
    commit_all(ws.root, "one chunk")
    ws.remotes.push()
    shared = ws.remotes.open()
    assert [c.hash for c in shared.manifest(b3(data)).chunks] == [b3(data)]
    assert ws.remotes.verify().ok
    clone = _clone(ws, make_workspace)
    assert clone.remotes.pull()[0].failed == ()
    assert (clone.root / "small-but-chunked.bin").read_bytes() == data


def _write_loose(remote: Path, name: str, data: bytes, *, manifest: bool = False) -> None:
    folder = remote / "manifests" if manifest else remote
    write(folder / name[:2] / name[2:], data)


def test_a_remote_written_before_packs_is_read_and_added_to(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    """Loose objects, chunks and manifests, as remotes were laid out before packs: a new
    version pushed in packs shares their chunks, and pulls reassemble from both."""
    from strata.objects.chunks import Chunk, Manifest, split

    remote = tmp_path / "remote"
    ws = _workspace(make_workspace, remote, chunk_threshold=MiB)
    v1 = os.urandom(6 * MiB)
    write(ws.root / "big.bin", v1)
    write(ws.root / "notes.txt", "notes")
    ws.files.add(["big.bin", "notes.txt"])
    commit_all(ws.root, "v1")
    chunks = []
    for chunk, data in split(ws.root / "big.bin"):
        _write_loose(remote, chunk.hash, data)
        chunks.append(Chunk(chunk.hash, chunk.size))
    _write_loose(remote, b3(v1), Manifest(len(v1), tuple(chunks)).to_bytes(), manifest=True)
    _write_loose(remote, b3(b"notes"), b"notes")
    assert len(ws.remotes.push().transferred) == 0, "everything is there already"

    v2 = v1[: 3 * MiB] + os.urandom(128 * 1024) + v1[3 * MiB + 128 * 1024 :]
    write(ws.root / "big.bin", v2)
    ws.files.add(["big.bin"])
    commit_all(ws.root, "v2")
    pushed = ws.remotes.push()
    assert pushed.transferred == (b3(v2),)
    old_chunks = {c.hash for c in chunks}
    new_chunks = [c for c in ws.remotes.open().manifest(b3(v2)).chunks if c.hash not in old_chunks]
    assert new_chunks and len(new_chunks) < len(chunks)
    assert len(ws.remotes.open().listing().located_manifests) == 1  # v2's, in the new pack
    sent = pushed.bytes - sum(c.size for c in new_chunks)
    assert 0 < sent < 4096, "only the changed chunks travel, and the manifest"
    assert ws.remotes.verify().ok
    clone = _clone(ws, make_workspace)
    assert clone.remotes.pull()[0].failed == ()
    assert (clone.root / "big.bin").read_bytes() == v2
    git(clone.root, "checkout", "-q", "HEAD~1")
    clone.remotes.pull(force=True)
    assert (clone.root / "big.bin").read_bytes() == v1
    assert (clone.root / "notes.txt").read_text() == "notes"


def test_push_tells_how_many_packs_it_wrote(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    ws = _workspace(make_workspace, tmp_path / "remote", pack_size=64 * 1024)
    make_folder(ws.root / "raw", {f"f{n}.bin": os.urandom(16 * 1024).hex() for n in range(12)})
    ws.files.add(["raw"])
    commit_all(ws.root, "raw")
    out = cli("push", "--json", cwd=ws.root)
    assert out.code == 0, out.stderr
    written = out.json()["packs"]  # type: ignore[index]
    assert written == len(packs(ws.remotes.open())) >= 4
    again = cli("push", cwd=ws.root)
    assert "pushed 0 objects (0 B), 13 already there" in again.stdout


def test_an_unreadable_cached_object_fails_alone(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    ws = _workspace(make_workspace, tmp_path / "remote")
    write(ws.root / "a.txt", "fine")
    write(ws.root / "b.txt", "unreadable")
    ws.files.add(["a.txt", "b.txt"])
    commit_all(ws.root, "two")
    cached = ws.store.path(b3(b"unreadable"))
    os.chmod(cached, 0o644)
    cached.unlink()
    cached.mkdir()  # reading it fails with EISDIR
    out = cli("push", "--json", cwd=ws.root)
    assert out.code != 0
    doc = out.json()
    assert [(f["hash"], f["kind"]) for f in doc["failed"]] == [  # type: ignore[index]
        (b3(b"unreadable"), "unreadable")
    ]
    assert "cannot read it in the local cache" in doc["failed"][0]["reason"]  # type: ignore[index]
    assert ws.remotes.open().listing().names == {b3(b"fine")}


def test_a_pack_larger_than_an_upload_block_arrives_whole(
    make_workspace: WorkspaceFactory, remote_url: tuple[str, dict[str, str]]
) -> None:
    """On an object store a pack goes up a block at a time: this one takes several."""
    url, options = remote_url
    ws = make_workspace()
    ws.remotes.add("shared", url, default=True)
    for key, value in options.items():
        ws.remotes.modify("shared", key, value)
    data = os.urandom(40 * MiB)
    write(ws.root / "big.bin", data)
    ws.files.add(["big.bin"])
    commit_all(ws.root, "big")
    pushed = ws.remotes.push()
    assert pushed.packs == 1 and pushed.bytes > 40 * MiB
    [index] = packs(ws.remotes.open()).values()
    assert index.size > 2 * remote_module.UPLOAD_BLOCK
    assert ws.remotes.verify().ok
    clone = _clone(ws, make_workspace)
    assert clone.remotes.pull()[0].failed == ()
    assert (clone.root / "big.bin").read_bytes() == data


def test_objects_hashed_on_arrival_are_not_hashed_again_by_the_checkout(
    make_workspace: WorkspaceFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull verifies every object as it arrives and tells the state cache so: the checkout
    that follows copies the large ones without hashing them a second time."""
    import strata.objects.links

    ws = _workspace(make_workspace, tmp_path / "remote", chunk_threshold=MiB)
    large = {"a.bin": os.urandom(64 * 1024), "big.bin": os.urandom(3 * MiB)}
    for rel, data in large.items():
        write(ws.root / "data" / rel, data)
    write(ws.root / "data" / "small.txt", "small")
    ws.files.add(["data"])
    commit_all(ws.root, "data")
    ws.remotes.push()
    clone = _clone(ws, make_workspace)
    checked: list[str] = []
    real = strata.objects.links._check_hash

    def counting(digest: str, expect: str) -> None:
        checked.append(expect)
        real(digest, expect)

    monkeypatch.setattr(strata.objects.links, "_check_hash", counting)
    fetched, restored = clone.remotes.pull()
    assert fetched.failed == () and restored
    assert checked == [b3(b"small")], "only the small object is hashed again as it is copied"
    assert {p: (clone.root / "data" / p).read_bytes() for p in large} == large
