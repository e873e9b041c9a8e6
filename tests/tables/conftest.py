"""Fixtures for the table tests: workspaces and the CLI from tests/factories.py, a workspace
holding a small deliveries table, and input files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from factories import WorkspaceFactory, cli, make_workspace
from strata import Workspace
from tabledata import deliveries

__all__ = ["cli", "make_workspace"]


@pytest.fixture
def table_ws(make_workspace: WorkspaceFactory) -> Workspace:
    """A workspace (no git) holding table ``deliveries`` at version 0 with ids 0..9."""
    ws = make_workspace(git=False)
    ws.tables.create("deliveries", deliveries(range(10)), message="first load")
    return ws


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, pa.Table], Path]:
    """``write_file("x.parquet", rows)`` → a Parquet, CSV or JSON Lines file of ``rows``."""

    def write(name: str, rows: pa.Table) -> Path:
        import json

        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        path = tmp_path / "inputs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".parquet"):
            pq.write_table(rows, path)
        elif name.endswith(".csv"):
            pcsv.write_csv(rows, path)
        else:
            path.write_text("".join(json.dumps(r) + "\n" for r in rows.to_pylist()))
        return path

    return write
