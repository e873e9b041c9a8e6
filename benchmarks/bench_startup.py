"""Strata's start-up against DVC's: ``--help`` and ``status`` in an empty workspace, and what
the interpreter spends importing (``python -X importtime``).

Run it from the project root:

    .venv/bin/python benchmarks/bench_startup.py              # 21 runs of each command
    .venv/bin/python benchmarks/bench_startup.py --quick      # 5 runs

Each command runs as a CLI subprocess (wall time by time.perf_counter, CPU time from wait4),
the two tools in turn, in one fresh git repository each (``strata init`` / ``dvc init``);
``python -c pass`` is timed the same way as the floor every Python CLI pays. One untimed run of
each command first writes bytecode and warms the page cache. Prints one JSON line per command
with the median and fastest wall seconds and the median CPU seconds (user + system, steadier on
a shared machine) of each tool, and ``ratio`` = dvc/strata (above 1: Strata is faster); then
one ``importtime`` line per Strata command: the modules with the most import time of their
own, and the time by top-level package (medians over the runs); then a line describing the
machine. DVC is installed into ``~/.cache/strata-bench/dvc-venv`` the first time (see
bench_files.py), with analytics off.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from bench_files import (
    BenchError,
    Tool,
    bench_env,
    cache_home,
    emit,
    ensure_dvc,
    in_turn,
    log,
    strata_exe,
    strata_source,
    timed,
)

TARGET_HELP_SECONDS = 0.15
COMMANDS = {"help": ["--help"], "status": ["status"]}
TOP = 15


def timed_cpu(command: Sequence[str | Path], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run; the CPU time varies less than the wall
    time on a loaded machine."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [os.fspath(c) for c in command],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise BenchError(f"`{' '.join(map(str, command))}` failed ({proc.returncode})")
    return elapsed, usage.ru_utime + usage.ru_stime


def time_commands(tools: Sequence[Tool], repos: dict[str, Path], runs: int) -> None:
    """One JSON line per command: each tool's median and fastest wall time."""
    python = Tool("python", Path(sys.executable), tools[0].env)
    for label, args in COMMANDS.items():
        for tool in tools:  # warm-up, untimed: writes bytecode, fills the page cache
            timed([tool.exe, *args], repos[tool.name], tool.env)
        seconds: dict[str, list[float]] = defaultdict(list)
        cpu: dict[str, list[float]] = defaultdict(list)
        for i in range(runs):
            for tool in in_turn([*tools, python], i):
                command = [tool.exe, "-c", "pass"] if tool is python else [tool.exe, *args]
                elapsed, used = timed_cpu(command, repos.get(tool.name, Path.cwd()), tool.env)
                seconds[tool.name].append(elapsed)
                cpu[tool.name].append(used)
        medians = {name: statistics.median(times) for name, times in seconds.items()}
        cpu_medians = {name: statistics.median(times) for name, times in cpu.items()}
        record: dict[str, object] = {
            "case": f"startup-{label}",
            "command": " ".join(args),
            "strata_s": round(medians["strata"], 4),
            "dvc_s": round(medians["dvc"], 4),
            "ratio": round(medians["dvc"] / medians["strata"], 2),
            "python_floor_s": round(medians["python"], 4),
            "strata_cpu_s": round(cpu_medians["strata"], 4),
            "dvc_cpu_s": round(cpu_medians["dvc"], 4),
            "cpu_ratio": round(cpu_medians["dvc"] / cpu_medians["strata"], 2),
            "python_floor_cpu_s": round(cpu_medians["python"], 4),
            "strata_min_s": round(min(seconds["strata"]), 4),
            "dvc_min_s": round(min(seconds["dvc"]), 4),
            "runs": runs,
            "loadavg_1m": round(os.getloadavg()[0], 2),
        }
        if label == "help":
            record["target"] = f"strata <= {TARGET_HELP_SECONDS:g} s"
            record["target_met"] = medians["strata"] <= TARGET_HELP_SECONDS
        log(f"  {label}: strata {medians['strata']:.3f} s, dvc {medians['dvc']:.3f} s")
        emit(record)


def import_times(exe: Path, args: Sequence[str], cwd: Path, env: dict[str, str]) -> dict[str, int]:
    """Microseconds each module took to import on its own (``-X importtime``'s self column)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(exe), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    own: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        own[name.strip()] = int(self_us)
    return own


def importtime_report(strata: Path, repo: Path, env: dict[str, str], runs: int) -> None:
    """Per Strata command, the top offenders by own import time and the time per package."""
    for label, args in COMMANDS.items():
        samples = [import_times(strata, args, repo, env) for _ in range(runs)]
        modules = set().union(*samples)
        own = {m: statistics.median(s.get(m, 0) for s in samples) for m in modules}
        packages: dict[str, float] = defaultdict(float)
        for module, us in own.items():
            packages[module.split(".")[0]] += us
        emit(
            {
                "case": f"importtime-{label}",
                "command": f"strata {' '.join(args)}",
                "modules": len(modules),
                "total_ms": round(sum(own.values()) / 1000, 1),
                "top_modules_ms": {
                    m: round(us / 1000, 2)
                    for m, us in sorted(own.items(), key=lambda i: -i[1])[:TOP]
                },
                "top_packages_ms": {
                    p: round(us / 1000, 1)
                    for p, us in sorted(packages.items(), key=lambda i: -i[1])[:TOP]
                },
                "loaded": sorted(p for p in packages if p in HEAVY),
            }
        )


HEAVY = ("pyarrow", "deltalake", "sqlalchemy", "rich", "fsspec", "pydantic", "fastapi", "pandas")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, help="timed runs of each command (default 21)")
    parser.add_argument("--quick", action="store_true", help="5 runs")
    parser.add_argument("--dvc-spec", default="dvc", help="pip requirement for DVC")
    parser.add_argument("--dvc-venv", type=Path, default=cache_home() / "dvc-venv")
    args = parser.parse_args(argv)
    runs = args.runs or (5 if args.quick else 21)
    dvc = ensure_dvc(args.dvc_venv, args.dvc_spec)
    with tempfile.TemporaryDirectory(prefix="strata-bench-startup-") as folder:
        work = Path(folder)
        env = bench_env(work)
        tools = [Tool("strata", strata_exe(), env), Tool("dvc", dvc, env)]
        repos = {}
        for tool in tools:
            repos[tool.name] = work / tool.name
            tool.init(repos[tool.name])
        time_commands(tools, repos, runs)
        importtime_report(tools[0].exe, repos["strata"], env, max(3, runs // 4))
        emit(
            {
                "summary": "bench_startup",
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                **strata_source(),
                "dvc_version": tools[1].version(),
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
