"""Strata's Iceberg REST catalog against pyiceberg's SQL catalog on the same database.

    .venv/bin/python benchmarks/bench_iceberg_rest.py            # 20 repetitions
    .venv/bin/python benchmarks/bench_iceberg_rest.py --quick    # 3, a smoke test

Builds a workspace (SQLite, one editor with a token) holding an Iceberg table of ROWS rows,
starts ``strata server`` on a free loopback port, and times, each REPEAT times:

  load    RestCatalog.load_table (GET .../tables/events, the token checked)
          against SqlCatalog.load_table on the workspace's database directly
  append  load_table, then append BATCH rows: the client writes the data files either way; through
          the REST catalog the server then applies the commit (POST .../tables/events),
          stamps the user and writes the version hint

Prints one JSON line per case (median and p90 in ms both ways, the overhead in ms and as a
ratio REST / direct), then the machine. The two ways run in turn, so both see the
table at the same size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pyarrow as pa

HERE = Path(__file__).resolve().parent
STRATA = Path(sys.executable).parent / "strata"
sys.path.insert(0, str(HERE.parent / "tests"))

from factories import free_port  # noqa: E402


def rows(start: int, count: int) -> pa.Table:
    ids = pa.array(range(start, start + count), pa.int64())
    return pa.table({"id": ids, "value": pa.array([float(i) for i in range(count)])})


def timed(
    first: Callable[[], object], second: Callable[[], object], repeat: int
) -> tuple[list[float], list[float]]:
    """Milliseconds of each action, run in turn (so both see the table at the same size)."""
    first(), second()  # warm: imports, connections, caches
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for action, into in ((first, times[0]), (second, times[1])):
            began = time.perf_counter()
            action()
            into.append((time.perf_counter() - began) * 1000)
    return times


def summary(case: str, rest: list[float], direct: list[float]) -> dict[str, object]:
    def p90(values: list[float]) -> float:
        return sorted(values)[max(0, int(len(values) * 0.9) - 1)]

    rest_ms, direct_ms = statistics.median(rest), statistics.median(direct)
    return {
        "case": case,
        "rest_ms": round(rest_ms, 2),
        "rest_p90_ms": round(p90(rest), 2),
        "direct_ms": round(direct_ms, 2),
        "direct_p90_ms": round(p90(direct), 2),
        "overhead_ms": round(rest_ms - direct_ms, 2),
        "ratio": round(rest_ms / direct_ms, 2),
        "runs": len(rest),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 3 if args.quick else args.repeat
    from pyiceberg.catalog.rest import RestCatalog

    from strata import Workspace
    from strata.tables.iceberg_catalog import sql_catalog

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "ws"
        root.mkdir()
        Workspace.init(root, git=False).close()
        env = {**os.environ, "STRATA_USER": "bench"}
        with Workspace(root, environ=env) as ws:
            ws.tables.create("events", rows(0, args.rows), format="iceberg")
            ws.users.add("editor", "editor", by="bench")
            token = ws.users.create_token("editor")[1]
            db_url = ws.tables.db.url
        port = free_port()
        server = subprocess.Popen(
            [str(STRATA), "server", "--port", str(port)],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            rest = RestCatalog("strata", uri=f"{url}/iceberg", token=token)
            direct = sql_catalog(db_url)
            load_rest, load_direct = timed(
                lambda: rest.load_table("default.events"),
                lambda: direct.load_table(("strata", "events")),
                repeat,
            )
            print(json.dumps(summary("load", load_rest, load_direct)), flush=True)
            batch = rows(10**9, args.batch)
            # Each append on a table just loaded (the other client committed meanwhile).
            append_rest, append_direct = timed(
                lambda: rest.load_table("default.events").append(batch),
                lambda: direct.load_table(("strata", "events")).append(batch),
                repeat,
            )
            print(json.dumps(summary("append", append_rest, append_direct)), flush=True)
        finally:
            server.terminate()
            server.wait(30)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version()}
    load = os.getloadavg()[0]
    print(json.dumps({"machine": machine, "load": load, "rows": args.rows, "batch": args.batch}))


if __name__ == "__main__":
    main()
