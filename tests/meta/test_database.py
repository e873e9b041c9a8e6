from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

import strata.meta
from strata.errors import MetadataError, MetadataUnavailableError
from strata.meta import SCHEMA_HEAD, FileVersion, MetadataDB, open_database
from strata.meta.migrate import VERSION_TABLE

HASH_A = "a" * 64
HASH_B = "b" * 64


@contextmanager
def raw(url: str) -> Iterator[sa.Connection]:
    """A plain SQLAlchemy connection to ``url``, committed at the end, engine disposed."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def fv(path: str, hash_: str = HASH_A, **kwargs: object) -> FileVersion:
    fields: dict[str, object] = {"kind": "file", "size": 10, "files": 1, **kwargs}
    return FileVersion(path, hash_, **fields)  # type: ignore[arg-type]


def test_public_api_is_pinned() -> None:
    assert strata.meta.__all__ == ["FileVersion", "MetadataDB", "SCHEMA_HEAD", "open_database"]


def test_open_applies_migrations(db_url: str) -> None:
    with open_database(db_url) as db:
        assert isinstance(db, MetadataDB)
    with raw(db_url) as connection:
        tables = set(sa.inspect(connection).get_table_names())
        version = connection.execute(
            sa.text("SELECT version_num FROM strata_alembic_version")
        ).all()
    assert {"file_versions", VERSION_TABLE} <= tables
    assert version == [(SCHEMA_HEAD,)]


def test_reopening_does_not_migrate(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_database(db_url) as db:
        db.record_file_versions([fv("a.csv")])

    def fail(*_args: object) -> None:
        raise AssertionError("migrated again")

    monkeypatch.setattr("strata.meta.migrate._upgrade", fail)
    with open_database(db_url) as db:
        assert [v.path for v in db.file_versions()] == ["a.csv"]


def test_record_and_list_round_trip(db_url: str) -> None:
    with open_database(db_url) as db:
        assert db.record_file_versions([fv("data/a.csv"), fv("data/dir", HASH_B)]) == 2
        assert db.record_file_versions([fv("data/a.csv"), fv("data/a.csv", HASH_B)]) == 1
        assert db.record_file_versions([]) == 0
        stored = db.file_versions()
        only_a = db.file_versions("data/a.csv")
    assert [(v.path, v.hash) for v in stored] == [
        ("data/a.csv", HASH_A),
        ("data/dir", HASH_B),
        ("data/a.csv", HASH_B),
    ]
    assert [v.hash for v in only_a] == [HASH_A, HASH_B]
    first = stored[0]
    assert first == fv("data/a.csv", recorded_at=first.recorded_at)
    assert first.recorded_at is not None and first.recorded_at.tzinfo == UTC


def test_directory_versions_and_explicit_times(db_url: str) -> None:
    later = datetime(2024, 10, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    earlier = datetime(2024, 9, 1, 8, 30, 15, 123456, tzinfo=UTC)
    with open_database(db_url) as db:
        db.record_file_versions([fv("models", HASH_B, kind="directory", size=2**40, files=7,
                                    recorded_at=later)])  # fmt: skip
        db.record_file_versions([fv("models", HASH_A, recorded_at=earlier)])
        versions = db.file_versions("models")
    assert [v.recorded_at for v in versions] == [earlier, later]
    assert versions[1].recorded_at is not None and versions[1].recorded_at.tzinfo == UTC
    assert (versions[1].kind, versions[1].size, versions[1].files) == ("directory", 2**40, 7)


def test_duplicates_within_one_call_count_once(db_url: str) -> None:
    with open_database(db_url) as db:
        assert db.record_file_versions([fv("x"), fv("x"), fv("y")]) == 2


@pytest.mark.parametrize(
    "bad",
    [
        fv("/abs/path"),
        fv("../escape"),
        fv("a\\b"),
        fv("ok", "ABC"),
        fv("ok", kind="link"),
        fv("ok", size=-1),
        fv("ok", files=2),
        fv("ok", recorded_at=datetime(2024, 1, 1)),  # naive on purpose
    ],
)
def test_invalid_versions_are_refused_and_nothing_is_written(
    tmp_path: Path, bad: FileVersion
) -> None:
    with open_database(f"sqlite:///{tmp_path / 'strata.db'}") as db:
        with pytest.raises(MetadataError, match="cannot record file version"):
            db.record_file_versions([fv("fine"), bad])
        assert db.file_versions() == []


def test_newer_schema_is_refused(db_url: str) -> None:
    open_database(db_url).close()
    with raw(db_url) as connection:
        connection.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    with pytest.raises(MetadataError, match="revision 9999, written by a newer strata") as info:
        open_database(db_url)
    assert "upgrade strata" in info.value.one_line()
    with raw(db_url) as connection:
        assert connection.execute(
            sa.text("SELECT version_num FROM strata_alembic_version")
        ).all() == [("9999",)]


def test_query_errors_are_translated(db_url: str) -> None:
    with open_database(db_url) as db:
        with raw(db_url) as connection:
            connection.execute(sa.text("DROP TABLE file_versions"))
        with pytest.raises(MetadataError, match="cannot read file versions") as info:
            db.file_versions()
    assert isinstance(info.value.__cause__, sa.exc.SQLAlchemyError)
    assert not isinstance(info.value, MetadataUnavailableError), "the database answered"


def test_closed_database_refuses_work(db_url: str) -> None:
    db = open_database(db_url)
    db.close()
    db.close()
    with pytest.raises(MetadataError, match="closed"):
        db.file_versions()


def test_concurrent_first_open_migrates_once(db_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def open_and_close() -> None:
        barrier.wait()
        try:
            open_database(db_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_and_close) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.parametrize(
    "url",
    ["not a url", "mysql://root@localhost/strata", "sqlite+nosuchdriver:///x.db"],
)
def test_bad_url_is_a_metadata_error(url: str) -> None:
    with pytest.raises(MetadataError) as info:
        open_database(url)
    assert info.value.hint
    assert not isinstance(info.value, MetadataUnavailableError)


def test_sqlite_path_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(MetadataError, match="cannot open metadata database at sqlite:"):
        open_database(f"sqlite:///{tmp_path / 'file' / 'sub' / 'strata.db'}")


def test_unreachable_server_hides_the_password() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        with pytest.raises(MetadataError) as info:
            open_database(f"postgresql://strata:s3cretpw@127.0.0.1:{port}/strata")
    error = info.value
    assert "s3cretpw" not in error.one_line()
    assert f"at postgresql://strata:***@127.0.0.1:{port}/strata: " in error.message
    assert "server is running" in error.hint
    assert isinstance(error.__cause__, sa.exc.OperationalError)
    assert isinstance(error, MetadataUnavailableError)


def test_sqlite_busy_past_its_timeout_is_unavailable(tmp_path: Path) -> None:
    from strata.meta.translate import translating

    path = tmp_path / "busy.db"
    holder, waiter = sqlite3.connect(path, timeout=0), sqlite3.connect(path, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with (
            pytest.raises(MetadataUnavailableError, match="database is locked"),
            translating("cannot write", f"sqlite:///{path}"),
        ):
            waiter.execute("BEGIN IMMEDIATE")
    finally:
        holder.close()
        waiter.close()


def test_postgresql_url_without_driver_uses_psycopg(postgres_url: str) -> None:
    url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with open_database(url) as db:
        assert db.url == postgres_url
        assert db.record_file_versions([fv("a")]) == 1


def test_sqlite_creates_parent_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "new" / ".strata" / "strata.db"
    with open_database(f"sqlite:///{path}") as db:
        db.record_file_versions([fv("a")])
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()


def test_import_does_not_load_sqlalchemy_or_alembic() -> None:
    code = (
        "import strata.meta, sys; "
        "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy imported'; "
        "assert 'alembic' not in sys.modules, 'alembic imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_repr_hides_password() -> None:
    db = MetadataDB("postgresql+psycopg://u:hunter22@h/db", sa.create_engine("sqlite://"))
    try:
        assert "hunter22" not in repr(db)
    finally:
        db.close()
