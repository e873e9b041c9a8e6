"""Remote storage growth: Strata (chunked objects) against DVC (whole files), side by side.

A CSV-like file of 200 MiB is versioned five times and pushed to a local-folder remote after
each version, in two variants: each version appends 1% more rows, or each version rewrites 1%
of the rows in the middle. Printed, one JSON line per variant: the remote's size after the last
push as a multiple of the final file's size, and the largest transfer of one new version as a
fraction of the file's size, for both tools.

    .venv/bin/python benchmarks/bench_remote.py            # 200 MiB
    .venv/bin/python benchmarks/bench_remote.py --quick    # 20 MiB
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench_files import MIB, Tool, bench_env, cache_home, ensure_dvc, log, run, strata_exe

VERSIONS = 5
ROW_BYTES = 64


def rows(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [
        f"{rng.getrandbits(48):014d},{rng.random():.12f},{rng.getrandbits(64):x}".ljust(
            ROW_BYTES - 1
        ).encode()
        + b"\n"
        for _ in range(count)
    ]


def versions(size: int, variant: str) -> list[list[bytes]]:
    """The rows of each version."""
    base = rows(size // ROW_BYTES, seed=1)
    out = [base]
    for k in range(1, VERSIONS):
        prev = out[-1]
        step = len(base) // 100
        if variant == "append":
            out.append(prev + rows(step, seed=100 + k))
        else:
            middle = len(prev) // 2 + k * step
            out.append(prev[:middle] + rows(step, seed=200 + k) + prev[middle + step :])
    return out


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def write_version(path: Path, lines: Sequence[bytes]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(b"".join(lines))
    os.replace(tmp, path)


def measure(tool: Tool, work: Path, variant: str, data: list[list[bytes]]) -> dict[str, object]:
    repo, remote = work / f"{tool.name}-{variant}", work / f"{tool.name}-{variant}-remote"
    tool.init(repo)
    remote.mkdir()
    if tool.name == "strata":
        run([tool.exe, "remote", "add", "storage", str(remote), "--default"], repo, tool.env)
    else:
        run([tool.exe, "remote", "add", "-d", "storage", str(remote)], repo, tool.env)
    transfers: list[int] = []
    push_seconds: list[float] = []
    for index, lines in enumerate(data):
        write_version(repo / "table.csv", lines)
        run([tool.exe, "add", "table.csv"], repo, tool.env)
        run(["git", "add", "-A"], repo, tool.env)
        run(["git", "commit", "-q", "-m", f"v{index + 1}"], repo, tool.env)
        before = folder_bytes(remote)
        start = time.perf_counter()
        run([tool.exe, "push"], repo, tool.env)
        push_seconds.append(time.perf_counter() - start)
        transfers.append(folder_bytes(remote) - before)
    final = (repo / "table.csv").stat().st_size
    return {
        "remote_over_final": round(folder_bytes(remote) / final, 3),
        "largest_new_version_transfer": round(max(transfers[1:]) / final, 4),
        "push_s_median": round(sorted(push_seconds)[len(push_seconds) // 2], 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 MiB instead of 200 MiB")
    args = parser.parse_args(argv)
    size = (20 if args.quick else 200) * MIB
    work = Path(tempfile.mkdtemp(prefix="strata-bench-remote-"))
    try:
        env = bench_env(work)
        strata = Tool("strata", strata_exe(), env)
        dvc = Tool("dvc", ensure_dvc(cache_home() / "dvc-venv", "dvc"), env)
        for variant in ("append", "middle"):
            log(f"building {VERSIONS} versions ({variant})")
            data = versions(size, variant)
            record: dict[str, object] = {"case": f"storage-growth-{variant}", "bytes": size}
            for tool in (strata, dvc):
                log(f"{tool.name}: add, commit and push each version")
                record[tool.name] = measure(tool, work, variant, data)
            record["targets"] = "strata remote_over_final <= 1.3, new version transfer <= 0.10"
            print(json.dumps(record), flush=True)
        print(json.dumps({"summary": "bench_remote", "date": time.strftime("%Y-%m-%d")}))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
