"""Table versioning: Strata beside the same operation done with ``deltalake`` directly.

On a 1,000,000-row table: append 10,000 rows, time-travel read of version 0, merge 100,000
rows (half matching), restore, stats, and a keyed diff of two versions; on a 10,000,000-row
table: restore and stats again (they should not grow with the table). Each operation runs
alternately through Strata and through deltalake on the same table, REPEATS times; the
figures are medians, and the ratio is Strata / deltalake (1.10 = 10% overhead).

    .venv/bin/python benchmarks/bench_tables.py [--repeats 5] [--skip-10m]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from strata import Workspace
from strata.tables import Table


def rows(start: int, count: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = np.arange(start, start + count, dtype=np.int64)
    regions = np.array(["north", "south", "east", "west"])
    return pa.table(
        {
            "delivery_id": ids,
            "region": pa.array(regions[rng.integers(0, 4, count)]),
            "distance_km": rng.uniform(1, 40, count),
            "delay_min": rng.normal(8, 6, count),
            "rating": rng.integers(1, 6, count, dtype=np.int64),
        }
    )


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def timed_call(action: Callable[[int], object], arg: int) -> float:
    start = time.perf_counter()
    action(arg)
    return time.perf_counter() - start


def side_by_side(
    repeats: int, strata: Callable[[int], object], direct: Callable[[int], object]
) -> tuple[float, float]:
    """Medians of alternating runs (Strata first on even repeats, deltalake first on odd)."""
    ours: list[float] = []
    theirs: list[float] = []
    for i in range(repeats):
        if i % 2 == 0:
            ours.append(timed_call(strata, i))
            theirs.append(timed_call(direct, i))
        else:
            theirs.append(timed_call(direct, i))
            ours.append(timed_call(strata, i))
    return statistics.median(ours), statistics.median(theirs)


def report(case: str, ours: float, theirs: float | None, target: str) -> None:
    if theirs is None:
        print(f"| {case} | {ours:.3f} s | — | — | {target} |", flush=True)
    else:
        ratio = ours / theirs
        print(f"| {case} | {ours:.3f} s | {theirs:.3f} s | {ratio:.2f} | {target} |", flush=True)


def bench_size(ws: Workspace, label: str, size: int, repeats: int, full: bool) -> None:
    name = f"deliveries_{label}"
    print(f"\nbuilding a {size:,}-row table ...", flush=True)
    built = timed(lambda: ws.tables.create(name, rows(0, size, 1)))
    print(f"(created in {built:.1f} s)\n", flush=True)
    print("| case | Strata | deltalake | ratio | target |")
    print("|---|---|---|---|---|")
    table: Table = ws.table(name)
    path = table.location
    quick = max(repeats, 11)  # cheap operations: more repeats, steadier medians
    table.append(rows(size, 1_000, 3))  # version 1: the same shape at every size

    report(
        f"restore to version 0 ({label})",
        *side_by_side(quick, lambda _: table.restore(0), lambda _: DeltaTable(path).restore(0)),
        "flat 1M → 10M",
    )

    def stats_strata(_: int) -> None:
        table._stats(table.latest_version())  # from the log (what `stats` stores on first use)

    def stats_direct(_: int) -> None:
        pa.table(DeltaTable(path).get_add_actions(flatten=True))

    report(
        f"stats from the log ({label})", *side_by_side(quick, stats_strata, stats_direct), "flat"
    )
    stored = statistics.median(timed(lambda: table.stats(0)) for _ in range(quick))
    report(f"stats, stored in the catalog ({label})", stored, None, "—")
    if full:
        bench_writes(ws, table, size, repeats, quick, label)


def bench_writes(
    ws: Workspace, table: Table, size: int, repeats: int, quick: int, label: str
) -> None:
    path = table.location
    extra = iter(range(quick * 2))

    def append_strata(_: int) -> None:
        table.append(rows(2 * size + 10_000 * next(extra), 10_000, 2))

    def append_direct(_: int) -> None:
        write_deltalake(path, rows(2 * size + 10_000 * next(extra), 10_000, 2), mode="append")

    report(
        f"append 10k rows ({label})", *side_by_side(quick, append_strata, append_direct), "≤ 1.10"
    )
    report(
        f"read version 0 ({label})",
        *side_by_side(
            quick,
            lambda _: table.at(0).to_arrow(),
            lambda _: DeltaTable(path, version=0).to_pyarrow_table(),
        ),
        "≤ 1.10",
    )

    def source(i: int) -> pa.Table:
        # half the keys match existing rows, half are new
        matching = rows(i * 50_000, 50_000, 10 + i)
        new = rows(50 * size + i * 50_000, 50_000, 20 + i)
        return pa.concat_tables([matching, new])

    def merge_direct(i: int) -> None:
        (
            DeltaTable(path)
            .merge(
                source(i),
                predicate="t.delivery_id = s.delivery_id",
                source_alias="s",
                target_alias="t",
            )
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )

    report(
        f"merge 100k rows, half matching ({label})",
        *side_by_side(
            repeats,
            lambda i: table.merge(source(2 * i), on=["delivery_id"]),
            lambda i: merge_direct(2 * i + 1),
        ),
        "≤ 1.10",
    )
    latest = table.latest_version()
    ref_a, ref_b = f"table:{table.name}@0", f"table:{table.name}@{latest}"
    times = [timed(lambda: ws.tables.diff(ref_a, ref_b, key=["delivery_id"])) for _ in range(3)]
    found = ws.tables.diff(ref_a, ref_b, key=["delivery_id"])
    assert found.rows is not None
    report(
        f"keyed diff @0 → @{latest} ({label}; +{found.rows.added:,} ~{found.rows.changed:,})",
        statistics.median(times),
        None,
        "< 3 s",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-10m", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="strata-bench-tables-"))
    try:
        subprocess.run(["git", "init", "-q", str(folder)], check=True)
        with Workspace.init(folder) as ws:
            bench_size(ws, "1M", 1_000_000, args.repeats, full=True)
            if not args.skip_10m:
                bench_size(ws, "10M", 10_000_000, max(3, args.repeats - 2), full=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
