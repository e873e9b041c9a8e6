"""Rollback speed: from a breaching metric to the previous version answering ``@production``;
table restore at 1M and 10M rows (Strata beside ``deltalake`` directly); PSI over 1M rows by
20 columns.

    .venv/bin/python benchmarks/bench_guard.py            # 1M and 10M rows
    .venv/bin/python benchmarks/bench_guard.py --quick    # 100k and 1M rows

Printed: one JSON line per measurement, medians (and p99 for the guard) of several repeats.
The reference practice for a model rollback is a person reading a dashboard: minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from strata import Workspace

MODEL = "delay-classifier"
POLICY = f"""\
metrics: {{source: file, path: metrics.json}}
models:
  {MODEL}:
    conditions: [error_rate > 0.05]
    action: rollback
    cooldown: 1s
"""


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def workspace(folder: Path) -> Workspace:
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    return Workspace.init(folder)


def bench_guard(folder: Path, repeats: int) -> None:
    """Breach → check → resolve(@production) is the previous version; v2 promoted back each time."""
    from strata.guard import parse_policy

    ws = workspace(folder / "guard")
    for n in (1, 2):
        path = folder / f"model-{n}.bin"
        path.write_bytes(os.urandom(1 << 20))
        ws.models.register(MODEL, path)
        ws.models.promote(f"model:{MODEL}@{n}", "production")
    (ws.root / "metrics.json").write_text(json.dumps({MODEL: {"error_rate": 0.3}}))
    policy = parse_policy(POLICY)
    latencies = []
    for _ in range(repeats):
        time.sleep(1.05)  # past the cool-down
        start = time.perf_counter()
        [outcome] = ws.guard.check(policy, base=ws.root)
        resolved = ws.models.resolve(f"model:{MODEL}@production")
        latencies.append(time.perf_counter() - start)
        assert outcome.outcome == "rolled_back" and resolved.number == 1, outcome.message
        ws.models.promote(f"model:{MODEL}@2", "production")
    emit(
        measure="breach to previous version in production",
        median_s=round(statistics.median(latencies), 4),
        p99_s=round(p99(latencies), 4),
        repeats=repeats,
        target_s=1.0,
    )
    ws.close()


def table_of(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "id": np.arange(rows, dtype=np.int64),
            "distance_km": rng.uniform(1, 40, rows),
            "delay_min": rng.integers(0, 120, rows),
        }
    )


def timed(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_restore(folder: Path, rows: int, repeats: int) -> None:
    """Restore version 0 of a table with 5 appends, through Strata and through deltalake."""
    from deltalake import DeltaTable, write_deltalake

    ws = workspace(folder / f"restore-{rows}")
    base = table_of(rows, 1)
    ws.tables.create("t", base)
    plain = folder / f"plain-{rows}"
    write_deltalake(str(plain), base)
    for k in range(5):
        extra = table_of(rows // 100, 10 + k)
        ws.table("t").append(extra)
        write_deltalake(str(plain), extra, mode="append")
    strata_s = timed(lambda: ws.table("t").restore(0), repeats)
    delta_s = timed(lambda: DeltaTable(str(plain)).restore(0), repeats)
    emit(
        measure="table restore",
        rows=rows,
        strata_median_s=round(strata_s, 4),
        deltalake_median_s=round(delta_s, 4),
        ratio=round(strata_s / delta_s, 2),
    )
    ws.close()


def bench_psi(rows: int, columns: int, repeats: int) -> None:
    from strata.guard.drift import drift, profile

    rng = np.random.default_rng(3)
    reference = pa.table({f"c{i}": rng.normal(0, 1, rows) for i in range(columns)})
    current = pa.table({f"c{i}": rng.normal(0.1, 1, rows) for i in range(columns)})
    seconds = timed(lambda: drift(profile(reference), current), repeats)
    emit(measure="PSI", rows=rows, columns=columns, median_s=round(seconds, 3), target_s=2.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller tables, fewer repeats")
    args = parser.parse_args()
    sizes = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    repeats = 3 if args.quick else 5
    with tempfile.TemporaryDirectory(prefix="strata-bench-guard-") as tmp:
        folder = Path(tmp)
        bench_guard(folder, repeats=10 if args.quick else 30)
        for rows in sizes:
            bench_restore(folder, rows, repeats)
        bench_psi(1_000_000, 20, repeats)


if __name__ == "__main__":
    main()
