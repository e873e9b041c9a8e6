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


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    try:
        cluster = start_cluster()
    except ClusterUnavailable as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"STRATA_REQUIRE_POSTGRES=1 but {exc}", pytrace=False)
        pytest.skip(str(exc))
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
