"""Fixtures for the model registry tests; the general ones come from tests/factories.py."""

from __future__ import annotations

import pytest

from factories import WorkspaceFactory, cli, make_workspace
from strata import Workspace

__all__ = ["cli", "db_ws", "make_workspace", "ws"]


@pytest.fixture
def ws(make_workspace: WorkspaceFactory) -> Workspace:
    """A git workspace on the embedded SQLite database."""
    return make_workspace()


@pytest.fixture
def db_ws(
    make_workspace: WorkspaceFactory, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Workspace:
    """A workspace whose metadata database is SQLite or PostgreSQL (the test runs on both)."""
    monkeypatch.setenv("STRATA_METADATA_URL", db_url)
    return make_workspace()
