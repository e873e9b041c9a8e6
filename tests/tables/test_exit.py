"""Reading a table with a few dozen versions from the command line exits cleanly every time
(Arrow's and delta-rs's thread pools once crashed or hung the interpreter's teardown)."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from factories import WorkspaceFactory, run_strata

pytestmark = pytest.mark.slow


def test_table_show_exits_zero_with_all_its_output_20_times(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(git=False)
    ws.tables.create("events", pa.table({"id": [0], "kind": ["open"]}))
    table = ws.table("events")
    for i in range(1, 60):
        table.append(pa.table({"id": [i], "kind": ["open"]}))
    for attempt in range(20):
        out = run_strata("table", "show", "table:events", "--limit", "1", "--json", cwd=ws.root)
        assert (attempt, out.code, out.stderr) == (attempt, 0, "")
        assert len(json.loads(out.stdout)) == 1
