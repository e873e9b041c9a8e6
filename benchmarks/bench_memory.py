"""Peak memory of add, push and pull of one large file: the resident set of each command,
file-mapped pages included (what a container's memory limit counts), and its time.

    .venv/bin/python benchmarks/bench_memory.py                    # one 1 GiB file
    .venv/bin/python benchmarks/bench_memory.py --gib 4
    .venv/bin/python benchmarks/bench_memory.py --against OLD/src  # another checkout's code too

Each command runs as `strata ...` in a subprocess; its peak RSS comes from wait4. With
``--against``, the same steps run with that source tree first on PYTHONPATH, in turn with this
one, so the two are compared in one run. One JSON line per step and code.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STRATA = Path(sys.executable).parent / "strata"
HERE_SRC = Path(__file__).resolve().parent.parent / "src"
BLOCK = 64 * 1024 * 1024


def run(args: list[str], cwd: Path, src: Path) -> tuple[float, int]:
    """Seconds and peak RSS (MiB) of one command."""
    env = {**os.environ, "PYTHONPATH": str(src), "NO_COLOR": "1"}
    os.sync()  # a command's own filesystem sync must not pay for what an earlier one wrote
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    took = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed in {cwd} (status {status})")
    return took, usage.ru_maxrss // 1024


def one_round(src: Path, label: str, data: Path, scratch: Path) -> list[dict[str, object]]:
    work = scratch / label
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    remote = scratch / f"{label}-remote"
    shutil.rmtree(remote, ignore_errors=True)
    os.link(data, work / "big.bin")
    figures = []
    steps = [
        ("init", [str(STRATA), "init", "--no-git"]),
        ("remote", [str(STRATA), "remote", "add", "store", str(remote), "--default"]),
        ("add", [str(STRATA), "add", "big.bin"]),
        ("push", [str(STRATA), "push"]),
    ]
    for name, args in steps:
        took, rss = run(args, work, src)
        if name in ("add", "push"):
            figures.append({"step": name, "code": label, "seconds": round(took, 2), "rss_mib": rss})
    (work / "big.bin").unlink()
    shutil.rmtree(work / ".strata" / "cache")
    took, rss = run([str(STRATA), "pull"], work, src)
    figures.append({"step": "pull", "code": label, "seconds": round(took, 2), "rss_mib": rss})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--against", type=Path, help="another checkout's src/ to compare")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="strata-bench-memory-"))
    try:
        data = scratch / "big.bin"
        with data.open("wb") as out:
            left = int(args.gib * 1024**3)
            while left > 0:
                out.write(os.urandom(min(BLOCK, left)))
                left -= BLOCK
        codes = [("this", HERE_SRC)]
        if args.against is not None:
            codes.insert(0, ("against", args.against.resolve()))
        for _ in range(args.rounds):  # the codes in turn, each round in the other order
            for label, src in codes:
                for figure in one_round(src, label, data, scratch):
                    print(json.dumps({"gib": args.gib, **figure}), flush=True)
            codes.reverse()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
