"""What a progress bar costs: reporting to the bar from worker threads, the new tally against
the rich ``Progress`` task the bar used before (the incumbent); and ``strata add`` of a folder
with the bar drawn on a terminal against the same ``add`` with ``--quiet``.

Run it from the project root:

    .venv/bin/python benchmarks/bench_progress.py             # 7 runs of each case
    .venv/bin/python benchmarks/bench_progress.py --runs 3

Cases, the two sides run in turn, medians over the runs:

- ``advance``: 4 threads report 25,000 objects each, one at a time, while the bar is live on a
  terminal console (writing to memory): rich's ``Progress.advance`` against ``Tally.advance``
  (objects and bytes). ``ratio`` = rich / tally (above 1: the tally is faster).
- ``add-terminal``: ``strata add`` of 2,000 files of 4 KiB, stderr on a pseudo-terminal, with
  the bar and with ``--quiet``; each run on a fresh workspace. ``ratio`` = bar / quiet (the
  bar's share of the command: 1.0 is free). CPU seconds (user + system) are steadier than
  wall seconds on a shared machine.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from strata.cli.progress import Tally, shown

THREADS = 4
PER_THREAD = 25_000
FILES = 2_000
FILE_SIZE = 4096


def emit(record: dict[str, object]) -> None:
    print(json.dumps(record), flush=True)


def terminal_console() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=120)


def hammer(report: Callable[[], None]) -> float:
    """Seconds for THREADS threads to call ``report`` PER_THREAD times each."""

    def work() -> None:
        for _ in range(PER_THREAD):
            report()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def advance_rich() -> float:
    """The incumbent: the bar as it was, a rich Progress task advanced by one."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=terminal_console(),
        transient=True,
    )
    with bar:
        task = bar.add_task("Adding", total=THREADS * PER_THREAD)
        return hammer(lambda: bar.advance(task, 1))


def advance_tally() -> float:
    tally = Tally()
    tally.expect(THREADS * PER_THREAD, THREADS * PER_THREAD * FILE_SIZE)
    with shown(tally, "Adding", terminal_console()):
        return hammer(lambda: tally.advance(1, FILE_SIZE))


def case_advance(runs: int) -> None:
    rich_s: list[float] = []
    tally_s: list[float] = []
    for _ in range(runs):
        rich_s.append(advance_rich())
        tally_s.append(advance_tally())
    rich_m, tally_m = statistics.median(rich_s), statistics.median(tally_s)
    emit(
        {
            "case": "advance",
            "reports": THREADS * PER_THREAD,
            "rich_s": round(rich_m, 4),
            "tally_s": round(tally_m, 4),
            "ratio": round(rich_m / tally_m, 2),
            "runs": runs,
            "rich_all": [round(s, 4) for s in rich_s],
            "tally_all": [round(s, 4) for s in tally_s],
        }
    )


def run_on_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of ``strata ARGS`` with stderr on a pseudo-terminal."""
    import fcntl
    import struct
    import termios

    terminal, child_end = os.openpty()
    fcntl.ioctl(child_end, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    strata = Path(sys.executable).parent / "strata"
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(strata), *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=child_end
    )
    os.close(child_end)

    def drain() -> None:
        try:
            while os.read(terminal, 65536):
                pass
        except OSError:
            pass

    reader = threading.Thread(target=drain)
    reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    reader.join()
    os.close(terminal)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"strata {' '.join(args)} failed")
    return elapsed, usage.ru_utime + usage.ru_stime


def fresh_workspace(base: Path, template: Path, env: dict[str, str]) -> Path:
    root = Path(tempfile.mkdtemp(dir=base))
    subprocess.run(
        [str(Path(sys.executable).parent / "strata"), "init", "--no-git", str(root)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    shutil.copytree(template, root / "data")
    return root


def case_add(runs: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
    env.update(TERM="xterm-256color")
    for name in ("COLUMNS", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE"):
        env.pop(name, None)
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        template = base / "template"
        template.mkdir()
        for i in range(FILES):
            (template / f"part-{i:05d}.bin").write_bytes(os.urandom(FILE_SIZE))
        sides: dict[str, list[str]] = {"bar": ["add", "data"], "quiet": ["--quiet", "add", "data"]}
        wall: dict[str, list[float]] = {side: [] for side in sides}
        cpu: dict[str, list[float]] = {side: [] for side in sides}
        run_on_terminal(["--version"], base, env)  # warm-up: bytecode and page cache
        for _ in range(runs):
            for side, args in sides.items():
                root = fresh_workspace(base, template, env)
                seconds, used = run_on_terminal(args, root, env)
                wall[side].append(seconds)
                cpu[side].append(used)
                shutil.rmtree(root)
    medians = {side: statistics.median(wall[side]) for side in sides}
    cpu_medians = {side: statistics.median(cpu[side]) for side in sides}
    emit(
        {
            "case": "add-terminal",
            "files": FILES,
            "bar_s": round(medians["bar"], 3),
            "quiet_s": round(medians["quiet"], 3),
            "ratio": round(medians["bar"] / medians["quiet"], 3),
            "bar_cpu_s": round(cpu_medians["bar"], 3),
            "quiet_cpu_s": round(cpu_medians["quiet"], 3),
            "cpu_ratio": round(cpu_medians["bar"] / cpu_medians["quiet"], 3),
            "runs": runs,
            "bar_all": [round(s, 3) for s in wall["bar"]],
            "quiet_all": [round(s, 3) for s in wall["quiet"]],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--case", choices=["advance", "add-terminal"], action="append")
    options = parser.parse_args()
    cases = options.case or ["advance", "add-terminal"]
    if "advance" in cases:
        case_advance(options.runs)
    if "add-terminal" in cases:
        case_add(options.runs)
    emit({"machine": os.uname().nodename, "cpus": os.cpu_count(), "load": os.getloadavg()})


if __name__ == "__main__":
    main()
