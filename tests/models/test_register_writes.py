"""What a registration costs the disk and the database: one metadata transaction, each
artifact file read once, one durability barrier for its objects, taken before the rows
commit; a failed barrier leaves neither a row nor an object."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from factories import WorkspaceFactory, cache_objects, make_folder, write
from strata import Workspace
from strata.errors import StorageError
from strata.models import artifacts
from strata.objects import deposits
from strata.objects.hashing import hash_file

_OPENED: list[str] | None = None  # the paths opened while a test counts, else None


def _count_opens(event: str, args: tuple[object, ...]) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], str | bytes | Path):
        _OPENED.append(os.path.realpath(os.fsdecode(args[0])))


sys.addaudithook(_count_opens)  # audit hooks cannot be removed: this one is idle by default


@pytest.fixture
def opened() -> Iterator[list[str]]:
    """The real paths every ``open`` (Python's or ``os.open``) names, while the test runs."""
    global _OPENED
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


@pytest.fixture
def copy_ws(make_workspace: WorkspaceFactory) -> Workspace:
    """A workspace whose cache copies (no reflink probe opening a file that it cannot link)."""
    return make_workspace(cache_type="copy")


def _transactions(ws: Workspace) -> list[str]:
    log: list[str] = []
    engine = ws.db._engine
    sa.event.listen(engine, "begin", lambda _c: log.append("begin"))
    sa.event.listen(engine, "commit", lambda _c: log.append("commit"))
    sa.event.listen(engine, "rollback", lambda _c: log.append("rollback"))
    return log


def _barriers(monkeypatch: pytest.MonkeyPatch, log: list[str]) -> None:
    """Record each durability barrier of a batch of objects in ``log``."""
    datasync, syncfs = deposits._datasync, deposits.sync_filesystem

    def file_barrier(fd: int) -> None:
        log.append("sync-file")
        datasync(fd)

    def filesystem_barrier(path: Path) -> None:
        log.append("sync-filesystem")
        syncfs(path)

    monkeypatch.setattr(deposits, "_datasync", file_barrier)
    monkeypatch.setattr(deposits, "sync_filesystem", filesystem_barrier)


def test_a_registration_commits_exactly_one_metadata_transaction(ws: Workspace) -> None:
    ws.models.register("clf", write(ws.root / "m.bin", b"first"))
    log = _transactions(ws)
    ws.models.register("clf", write(ws.root / "m.bin", b"second"), tags={"team": "a"},
                       metrics={"auc": 0.9})  # fmt: skip
    ws.models.register("new-model", write(ws.root / "m.bin", b"third"))
    assert log == ["begin", "commit"] * 2
    assert [v.tags for v in ws.models.versions("clf")] == [{}, {"team": "a"}]


def test_a_rerun_reads_the_latest_version_in_the_same_one_transaction(ws: Workspace) -> None:
    path = write(ws.root / "m.bin", b"weights")
    first = ws.models.register("clf", path, tags={"team": "a"})
    log = _transactions(ws)
    again = ws.models.register("clf", path, tags={"team": "a"})
    assert log == ["begin", "commit"]
    assert (again.number, again.reused) == (first.number, True)


@pytest.mark.parametrize("large", [False, True], ids=["small", "large"])
def test_an_artifact_file_is_read_once(
    copy_ws: Workspace, opened: list[str], monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    if large:  # placed by the cache's link types, the placed copy hashed
        monkeypatch.setattr(artifacts, "SMALL_FILE", 8)
    path = write(copy_ws.root / "m.bin", b"model weights" * 100)
    opened.clear()
    version = copy_ws.models.register("clf", path)
    assert opened.count(os.path.realpath(path)) == 1
    assert version.artifact_hash == hash_file(path)
    assert copy_ws.store.is_intact(version.artifact_hash)


def test_each_file_of_a_folder_is_read_once(copy_ws: Workspace, opened: list[str]) -> None:
    folder = make_folder(copy_ws.root / "model", {"a.bin": b"a" * 300, "sub/b.bin": b"b" * 70})
    opened.clear()
    version = copy_ws.models.register("clf", folder)
    for name in ("a.bin", "sub/b.bin"):
        assert opened.count(os.path.realpath(folder / name)) == 1, name
    copy_ws.models.download(version.ref, copy_ws.root / "back")
    assert (copy_ws.root / "back" / "sub" / "b.bin").read_bytes() == b"b" * 70


@pytest.mark.parametrize(
    ("make", "barrier"),
    [
        (lambda root: write(root / "m.bin", b"one file"), "sync-file"),
        (lambda root: make_folder(root / "m", {"a": "1", "b": "2", "c/d": "3"}), "sync-filesystem"),
    ],
    ids=["file", "folder"],
)
def test_one_barrier_makes_the_objects_durable_before_they_are_named_and_the_rows_commit(
    ws: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[Path], Path],
    barrier: str,
) -> None:
    ws.models.register("warm-up", write(ws.root / "w.bin", b"opens the database"))
    log = _transactions(ws)
    _barriers(monkeypatch, log)
    before = cache_objects(ws.config.cache_dir)
    seen_at_barrier: list[set[str]] = []
    original = deposits.Deposits.commit

    def commit(self: deposits.Deposits) -> int:
        seen_at_barrier.append(cache_objects(ws.config.cache_dir))
        return original(self)

    monkeypatch.setattr(deposits.Deposits, "commit", commit)
    version = ws.models.register("clf", make(ws.root))
    assert log == [barrier, "begin", "commit"]
    assert seen_at_barrier == [before]  # nothing new under its name before the barrier
    new = cache_objects(ws.config.cache_dir) - before
    assert version.artifact_hash in new
    assert len(new) == version.files + (version.artifact_kind == "directory")


def test_a_failed_barrier_leaves_no_row_no_object_and_no_temp_file(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.models.register("clf", write(ws.root / "m.bin", b"first"))
    before = cache_objects(ws.config.cache_dir)

    def failing(_fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(deposits, "_datasync", failing)
    with pytest.raises(StorageError, match="Input/output error"):
        ws.models.register("clf", write(ws.root / "m.bin", b"second"))
    assert [v.number for v in ws.models.versions("clf")] == [1]
    assert cache_objects(ws.config.cache_dir) == before
    assert list((ws.config.cache_dir / "tmp").iterdir()) == []


def test_a_file_changed_while_it_is_stored_is_refused(
    copy_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(copy_ws.root / "m.bin", b"weights")
    copy_hashing = deposits._copy_hashing

    def racing(src: Path, tmp: Path) -> str:
        digest = copy_hashing(src, tmp)
        with open(src, "ab") as fh:  # a training job still writing
            fh.write(b" and more")
        return digest

    monkeypatch.setattr(deposits, "_copy_hashing", racing)
    with pytest.raises(StorageError, match="changed while it was being stored"):
        copy_ws.models.register("clf", path)
    assert copy_ws.models.list_models() == []
    assert cache_objects(copy_ws.config.cache_dir) == set()


def _tables_ws(make_workspace: WorkspaceFactory) -> Workspace:
    import pyarrow as pa

    ws = make_workspace()
    ws.tables.create("deliveries", pa.table({"id": [1, 2]}))
    ws.table("deliveries").append(pa.table({"id": [3]}))
    return ws


def _writes(ws: Workspace) -> list[str]:
    """The write transactions begun on the workspace's database from now on."""
    log: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement == "BEGIN IMMEDIATE":
            log.append(statement)

    sa.event.listen(ws.db._engine, "before_cursor_execute", note)
    return log


def test_pins_and_lineage_edges_commit_with_the_version_in_its_one_write_transaction(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = _tables_ws(make_workspace)
    features = ws.lineage.register_features("delivery", ["distance_km"])
    with ws.run("train") as training:  # ended before the registration: its edge is the links'
        pass
    ws.models.register("warm-up", write(ws.root / "w.bin", b"w"), data=["table:deliveries@1"])
    writes = _writes(ws)
    version = ws.models.register(
        "clf", write(ws.root / "m.bin", b"m"), data=["table:deliveries@latest"],
        features="features:delivery@latest", run=training.ref,
    )  # fmt: skip
    assert writes == ["BEGIN IMMEDIATE"]
    pins = [(p.version, p.pinned_by) for p in ws.tables.pins("deliveries")]
    assert sorted(pins) == [(1, "model:clf@1"), (1, "model:warm-up@1")]
    upstream = set(ws.lineage.graph(version.ref, direction="upstream").refs())
    assert {"table:deliveries@1", features.ref, training.ref} <= upstream


def test_a_failure_recording_lineage_registers_nothing_and_pins_nothing(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _tables_ws(make_workspace)

    def failing(*_args: object, **_kwargs: object) -> None:
        raise StorageError("the lineage store failed")

    monkeypatch.setattr(ws.lineage, "add_edges", failing)
    with pytest.raises(StorageError, match="lineage store failed"):
        ws.models.register("clf", write(ws.root / "m.bin", b"m"), data=["table:deliveries@1"])
    assert ws.models.list_models() == []
    assert ws.tables.pins("deliveries") == []
