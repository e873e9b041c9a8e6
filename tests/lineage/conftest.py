"""Fixtures for the lineage tests; the shared ones come from tests/factories.py."""

from __future__ import annotations

import pytest

from factories import WorkspaceFactory, cli, commit_all, make_workspace, write
from strata import Workspace

__all__ = ["cli", "make_workspace"]


@pytest.fixture
def lws(
    make_workspace: WorkspaceFactory, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Workspace:
    """A git workspace with one committed tracked file ``raw.csv``, its metadata database on
    SQLite or PostgreSQL (the test runs once per backend)."""
    ws = make_workspace(cache_type="copy")
    monkeypatch.setenv("STRATA_METADATA_URL", db_url)
    ws = make_workspace.open(ws.root)
    write(ws.root / "raw.csv", "id,delay\n1,5\n2,7\n")
    ws.files.add(["raw.csv"])
    commit_all(ws.root, "raw data")
    return ws


@pytest.fixture
def sqlite_ws(make_workspace: WorkspaceFactory) -> Workspace:
    """The same on the embedded SQLite database only (for CLI and subprocess tests)."""
    ws = make_workspace(cache_type="copy")
    write(ws.root / "raw.csv", "id,delay\n1,5\n2,7\n")
    ws.files.add(["raw.csv"])
    commit_all(ws.root, "raw data")
    return ws
