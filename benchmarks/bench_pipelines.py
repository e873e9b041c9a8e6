"""Strata against DVC on pipelines: ``repro`` with nothing changed, timed side by side.

Run it from the project root:

    .venv/bin/python benchmarks/bench_pipelines.py            # 50 stages, 20,000 dependency files
    .venv/bin/python benchmarks/bench_pipelines.py --quick    # 10 stages, 2,000 files

The same pipeline is written for each tool (``strata.yaml`` / ``dvc.yaml``) in its own fresh git
repository in one temporary folder: stage N reads the folder ``data/raw/shard_N`` (a 50th of the
dependency files each) and the previous stage's output, and writes ``out/stage_N.txt``. Each
tool runs the whole pipeline once untimed (state caches and locks warm), then ``repro`` with
nothing changed is timed ``--runs`` times as a CLI subprocess (time.perf_counter around
subprocess.run). A last, untimed check touches one shard and confirms that both tools rerun it.

Prints one JSON line with the median (and max) seconds of each tool and ``ratio`` =
dvc/strata (above 1: Strata is faster), then a line describing the machine. DVC is installed
into ``~/.cache/strata-bench/dvc-venv`` the first time (see bench_files.py), with analytics off.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench_files import BenchError, Tool, bench_env, cache_home, ensure_dvc, log, run, timed
from bench_files import strata_exe as find_strata

TARGET_SECONDS = 1.0
FILE_SIZE = 256


def build_data(root: Path, stages: int, files: int) -> None:
    per_shard = files // stages
    for shard in range(stages):
        folder = root / "data" / "raw" / f"shard_{shard:02d}"
        folder.mkdir(parents=True)
        for index in range(per_shard):
            (folder / f"part_{index:05d}.bin").write_bytes(os.urandom(FILE_SIZE))


def stage_lines(index: int) -> tuple[str, list[str], str]:
    """(command, dependencies, output) of stage ``index``."""
    out = f"out/stage_{index:02d}.txt"
    deps = [f"data/raw/shard_{index:02d}"]
    if index:
        deps.append(f"out/stage_{index - 1:02d}.txt")
    cmd = f"mkdir -p out && ls data/raw/shard_{index:02d} | wc -l > {out}"
    return cmd, deps, out


def pipeline_yaml(stages: int) -> str:
    lines = ["stages:"]
    for index in range(stages):
        cmd, deps, out = stage_lines(index)
        lines += [f"  stage_{index:02d}:", f"    cmd: {cmd}", "    deps:"]
        lines += [f"      - {d}" for d in deps]
        lines += ["    outs:", f"      - {out}"]
    return "\n".join(lines) + "\n"


def prepare_repo(tool: Tool, repo: Path, data: Path, stages: int) -> None:
    tool.init(repo)
    shutil.copytree(data / "data", repo / "data")
    name = "strata.yaml" if tool.name == "strata" else "dvc.yaml"
    (repo / name).write_text(pipeline_yaml(stages))
    log(f"{tool.name}: first repro of {stages} stages (untimed)")
    run([tool.exe, "repro"], repo, tool.env)
    for _ in range(2):  # warm: the second run must already find nothing to do
        run([tool.exe, "repro"], repo, tool.env)


def check_rerun(tool: Tool, repo: Path) -> None:
    """Touching one shard reruns its stage: the figure is not for a tool that skips work."""
    shard = repo / "data" / "raw" / "shard_00"
    (shard / "part_00000.bin").write_bytes(os.urandom(FILE_SIZE))
    out = run([tool.exe, "repro"], repo, tool.env)
    expected = "stage_00: ran" if tool.name == "strata" else "Running stage 'stage_00'"
    if expected not in out:
        raise BenchError(f"{tool.name} did not rerun stage_00 after its data changed:\n{out}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="timed repetitions (default 5)")
    parser.add_argument("--quick", action="store_true", help="10 stages and 2,000 files")
    parser.add_argument("--stages", type=int, default=50)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--dvc-spec", default="dvc", help="pip requirement for DVC")
    parser.add_argument("--dvc-venv", type=Path, default=cache_home() / "dvc-venv")
    args = parser.parse_args(argv)
    if args.quick:
        args.stages, args.files = 10, 2_000
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="strata-bench-pipelines-"))
    try:
        env = bench_env(work)
        tools = [
            Tool("strata", find_strata(), env),
            Tool("dvc", ensure_dvc(args.dvc_venv, args.dvc_spec), env),
        ]
        log(f"building {args.files} dependency files in {args.stages} shards")
        build_data(work / "source", args.stages, args.files)
        repos = {t.name: work / t.name for t in tools}
        for tool in tools:
            prepare_repo(tool, repos[tool.name], work / "source", args.stages)
        times: dict[str, list[float]] = {t.name: [] for t in tools}
        for index in range(args.runs):
            for tool in tools if index % 2 == 0 else tools[::-1]:  # alternate who goes first
                seconds, out = timed([tool.exe, "repro"], repos[tool.name], tool.env)
                if tool.name == "strata" and ": ran" in out:
                    raise BenchError(f"strata reran a stage with nothing changed:\n{out}")
                times[tool.name].append(seconds)
                log(f"{tool.name} repro (nothing changed): {seconds:.3f} s")
        for tool in tools:
            check_rerun(tool, repos[tool.name])
        medians = {name: statistics.median(values) for name, values in times.items()}
        print(
            json.dumps(
                {
                    "case": "repro-unchanged",
                    "stages": args.stages,
                    "dependency_files": args.files,
                    "runs": args.runs,
                    "strata_median_s": round(medians["strata"], 3),
                    "strata_max_s": round(max(times["strata"]), 3),
                    "dvc_median_s": round(medians["dvc"], 3),
                    "dvc_max_s": round(max(times["dvc"]), 3),
                    "ratio": round(medians["dvc"] / medians["strata"], 2),
                    "target_s": TARGET_SECONDS,
                    "met": medians["strata"] < TARGET_SECONDS,
                    "versions": {t.name: t.version() for t in tools},
                }
            )
        )
        print(
            json.dumps(
                {
                    "machine": platform.platform(),
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                }
            )
        )
        return 0
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
