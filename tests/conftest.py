"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pg_cluster import ClusterUnavailable, PostgresCluster, start_cluster

# --------------------------------------------------------------------------------------------
# Databases: a throwaway PostgreSQL cluster per test process (pytest-xdist workers each start
# their own, on their own port and temp dir), a fresh database in it per test, and `db_url`,
# which runs a test once on SQLite and once on PostgreSQL. Tests that use the cluster get the
# `postgres` marker, so `pytest -m "not postgres"` runs without a server.
# Missing server binaries skip those tests, or fail them when STRATA_REQUIRE_POSTGRES=1 (CI).
# --------------------------------------------------------------------------------------------

REQUIRE_POSTGRES = os.environ.get("STRATA_REQUIRE_POSTGRES") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "postgres_cluster" in getattr(item, "fixturenames", ()):  # postgres_url users
            item.add_marker(pytest.mark.postgres)


def _started_cluster() -> PostgresCluster:
    try:
        return start_cluster()
    except ClusterUnavailable as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"STRATA_REQUIRE_POSTGRES=1 but {exc}", pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = _started_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def own_postgres_cluster() -> Iterator[PostgresCluster]:
    """A cluster of the test's own, for tests that stop and start it (stopping the session's
    shared one would fail other tests)."""
    cluster = _started_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """URL of a new, empty PostgreSQL database (``postgresql+psycopg://...``)."""
    return postgres_cluster.create_database()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a new, empty metadata database; the test runs once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'strata.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


# -- S3 ----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Endpoint URL of a real S3-protocol server (moto) on loopback, for this session."""
    from s3_server import s3_server

    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty bucket on the loopback S3 server; credentials set in the environment."""
    import uuid

    import s3fs

    from s3_server import CREDENTIALS

    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    bucket = f"strata-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem(endpoint_url=s3_endpoint, skip_instance_cache=True).mkdir(bucket)
    return bucket
