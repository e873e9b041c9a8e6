"""The files operations tell their progress sink the work ahead (objects, and bytes) before
they report it done, so a bar can show totals and time left; what they report done adds up
to what they expected."""

from __future__ import annotations

import shutil
from pathlib import Path

from factories import ProgressRecorder, WorkspaceFactory, cache_objects, make_folder
from strata.core.progress import ProgressSink

FILES = {f"part-{i:03d}.csv": "x" * (100 + i) for i in range(40)}
FOLDER_BYTES = sum(len(data) for data in FILES.values())


def test_the_recorder_is_a_progress_sink() -> None:
    assert isinstance(ProgressRecorder(), ProgressSink)


def test_add_expects_every_file_and_the_bytes_to_hash(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(git=False)
    make_folder(ws.root / "data", FILES)
    first = ProgressRecorder()
    ws.files.add(["data"], progress=first)
    assert first.expected == first.done == [len(FILES), FOLDER_BYTES]
    assert first.overruns == []
    again = ProgressRecorder()  # nothing to hash: the state cache knows every file
    ws.files.add(["data"], progress=again)
    assert again.expected == again.done == [len(FILES), 0]
    assert again.overruns == []


def test_add_of_one_file_expects_it(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(git=False)
    make_folder(ws.root, {"one.csv": "a,b\n1,2\n"})
    seen = ProgressRecorder()
    ws.files.add(["one.csv"], progress=seen)
    assert seen.expected == seen.done == [1, 8]
    assert seen.overruns == []


def test_checkout_expects_every_file_to_write_and_its_bytes(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(git=False)
    make_folder(ws.root / "data", FILES)
    ws.files.add(["data"])
    shutil.rmtree(ws.root / "data")
    make_folder(ws.root / "data", {"part-000.csv": FILES["part-000.csv"]})  # one is in place
    seen = ProgressRecorder()
    ws.files.checkout(["data"], progress=seen)
    assert seen.expected == seen.done == [len(FILES) - 1, FOLDER_BYTES - 100]
    assert seen.overruns == []


def test_verify_expects_every_cached_object_and_its_bytes(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(git=False)
    make_folder(ws.root / "data", FILES)
    ws.files.add(["data"])
    cache = ws.root / ".strata" / "cache"
    objects = cache_objects(cache)
    nbytes = sum((cache / name[:2] / name[2:]).stat().st_size for name in objects)
    seen = ProgressRecorder()
    assert ws.files.verify(progress=seen).ok
    assert seen.expected == seen.done == [len(objects), nbytes]
    assert seen.overruns == []


def test_gc_expects_every_object_it_removes(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(git=False)
    make_folder(ws.root / "data", FILES)
    ws.files.add(["data"])
    make_folder(ws.root / "data", {"part-000.csv": "changed", "part-001.csv": "changed too"})
    ws.files.add(["data"])  # the old two files and the old listing are needed no more
    seen = ProgressRecorder()
    result = ws.files.gc(progress=seen)
    assert len(result.removed) == 3
    assert seen.expected == seen.done == [3, result.bytes_freed]
    assert seen.overruns == []
    dry = ProgressRecorder()
    ws.files.gc(dry_run=True, progress=dry)  # removes nothing, reports nothing
    assert dry.expected == dry.done == [0, 0]


def test_pull_reports_the_checkout_after_the_download(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    ws = make_workspace(git=False)
    make_folder(ws.root / "data", FILES)
    ws.files.add(["data"])
    ws.remotes.add("shared", str(tmp_path / "remote"), default=True)
    ws.remotes.push()
    shutil.rmtree(ws.root / ".strata" / "cache")
    shutil.rmtree(ws.root / "data")
    seen = ProgressRecorder()
    fetched, restored = ws.remotes.pull(progress=seen)
    written = sum(r.written for r in restored)
    assert written == len(FILES)
    assert seen.expected[0] >= written  # the checkout expects every file it writes
    assert seen.done[0] == len(fetched.transferred) + written
