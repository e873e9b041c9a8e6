"""Real processes at once: concurrent appends both land, conflicting merges never corrupt
the table, and a writer killed mid-commit leaves the previous version readable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from factories import Outcome, WorkspaceFactory, assert_one_line_error
from strata import Workspace
from strata.errors import TableConflictError
from tabledata import deliveries

pytestmark = pytest.mark.slow

_PRELUDE = """
import sys, time
from pathlib import Path
import pyarrow as pa
from strata import Workspace
root, start, worker = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
while not start.exists():
    time.sleep(0.001)
"""


def _spawn(script: str, root: Path, start: Path, worker: int) -> subprocess.Popen[str]:
    code = _PRELUDE + textwrap.dedent(script)
    return subprocess.Popen(
        [sys.executable, "-c", code, str(root), str(start), str(worker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_together(script: str, root: Path, workers: int = 2) -> list[Outcome]:
    start = root / "start-signal"
    procs = [_spawn(script, root, start, w) for w in range(workers)]
    time.sleep(0.8)  # let both import and wait at the start line
    start.touch()
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        outcomes.append(Outcome(proc.returncode, out, err))
    start.unlink()
    return outcomes


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_two_processes_appending_at_once_both_land(
    make_workspace: WorkspaceFactory, fmt: str
) -> None:
    ws = make_workspace(git=False)
    ws.tables.create(
        "deliveries", deliveries(range(10)), format="iceberg" if fmt == "iceberg" else "delta"
    )
    first = ws.table("deliveries").latest_version()
    script = """
    table = Workspace(root).table("deliveries")
    for i in range(5):
        ids = [1000 * (worker + 1) + i]
        table.append(pa.table({"id": ids, "weather": ["sun"], "delay_min": [1.0]}))
    """
    outcomes = _run_together(script, ws.root)
    assert [o.code for o in outcomes] == [0, 0], [o.stderr for o in outcomes]
    table = ws.table("deliveries")
    assert table.latest_version() == first + 10
    ids = table.to_arrow().column("id").to_pylist()
    assert sorted(ids) == sorted([*range(10), *range(1000, 1005), *range(2000, 2005)])
    assert {c.row_count for c in table.history()} == set(range(10, 21))


def test_conflicting_merges_one_lands_the_other_retries_or_fails_cleanly(
    table_ws: Workspace,
) -> None:
    script = """
    from strata.cli.main import app
    import pyarrow.parquet as pq
    source = root / f"merge-{worker}.parquet"
    pq.write_table(
        pa.table({"id": list(range(10)), "weather": [f"w{worker}"] * 10,
                  "delay_min": [float(worker)] * 10}),
        source,
    )
    import os
    os.chdir(root)
    sys.argv = ["strata", "table", "merge", "deliveries", str(source), "--on", "id"]
    app(prog_name="strata")
    """
    outcomes = _run_together(script, table_ws.root)
    landed = [o for o in outcomes if o.code == 0]
    assert landed, [o.stderr for o in outcomes]
    for failed in (o for o in outcomes if o.code != 0):
        assert_one_line_error(failed, TableConflictError.exit_code, "concurrent commit")
    table = table_ws.table("deliveries")
    assert table.latest_version() == len(landed)
    rows = table.to_arrow().to_pylist()
    assert sorted(r["id"] for r in rows) == list(range(10)), "no duplicated or lost keys"
    assert len({r["weather"] for r in rows}) == 1, "each merge is all or nothing"
    for version in range(table.latest_version() + 1):
        assert table.at(version).to_arrow().num_rows == 10


def test_a_writer_killed_mid_commit_leaves_the_previous_version(table_ws: Workspace) -> None:
    script = """
    table = Workspace(root).table("deliveries")
    rows = 400_000
    big = pa.table({"id": pa.array(range(rows), pa.int64()),
                    "weather": pa.array(["rain"] * rows),
                    "delay_min": pa.array([0.5] * rows)})
    while True:
        table.append(big)
    """
    start = table_ws.root / "start-signal"
    proc = _spawn(script, table_ws.root, start, 0)
    start.touch()
    data = Path(table_ws.table("deliveries").location)
    before = set(data.glob("*.parquet"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(set(data.glob("*.parquet")) - before) < 2:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    table = Workspace(table_ws.root).table("deliveries")
    latest = table.latest_version()
    assert latest >= 1
    for version in range(latest + 1):
        assert table.at(version).to_arrow().num_rows == 10 + 400_000 * version
    table.append(table.at(0).to_arrow())  # and it takes new commits
    assert table.latest_version() == latest + 1
