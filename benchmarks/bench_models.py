"""Strata's model registry against MLflow's, both on SQLite, timed side by side.

    .venv/bin/python benchmarks/bench_models.py              # 1,000 versions, 5 runs, + 10,000
    .venv/bin/python benchmarks/bench_models.py --quick      # small sizes, smoke test

MLflow is installed the first time into its own venv under ``~/.cache/strata-bench/mlflow-venv``
(reused afterwards) and driven by a small script in that venv's Python; Strata runs in this
process. Both use their Python APIs in-process, each on a fresh SQLite database in the same
temporary folder, and each operation is timed on its own with ``time.perf_counter``.

Per run, on a fresh registry:
  register   VERSIONS versions of one model (a distinct 1 KiB artifact each; every version
             tagged team=a for one in ten, else team=b). Strata stores the artifact bytes as
             objects; MLflow's ``create_model_version`` records the source path only.
  promote    PROMOTIONS promotions to Production, archiving the previous holder (MLflow:
             ``transition_model_version_stage(..., archive_existing_versions=True)``).
  resolve    RESOLVES resolutions each of @production and @champion (MLflow:
             ``get_latest_versions(stages=["Production"])``, ``get_model_version_by_alias``).
  list       the versions tagged team=a (MLflow: ``search_model_versions`` with a tag filter),
             20 times.
Then, Strata only: the tag-filtered listing with BIG versions (the target is absolute).

Prints one JSON line per operation with the median and p99 milliseconds of each tool and the
ratio mlflow/strata of the medians (above 1: Strata is faster), then the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from strata.models import Registry

TAG_EVERY = 10
LIST_REPEATS = 20
TARGETS = {  # operation: (minimum mlflow/strata ratio of medians, maximum Strata p99 ms)
    "register": (3.0, None),
    "promote": (3.0, None),
    "resolve-production": (10.0, 2.0),
    "resolve-champion": (10.0, 2.0),
}
BIG_LIST_TARGET_MS = 50.0

MLFLOW_SCRIPT = r"""
import json, os, sys, time, warnings
warnings.filterwarnings("ignore")
import logging
logging.disable(logging.WARNING)
import mlflow
from mlflow import MlflowClient

folder, versions, promotions, resolves = sys.argv[1], *map(int, sys.argv[2:5])
tag_every, list_repeats = int(sys.argv[5]), int(sys.argv[6])
uri = f"sqlite:///{folder}/mlflow.db"
client = MlflowClient(tracking_uri=uri, registry_uri=uri)
client.create_registered_model("clf")
times = {k: [] for k in ("register", "promote", "resolve-production", "resolve-champion", "list")}

def timed(key, call):
    start = time.perf_counter()
    result = call()
    times[key].append(time.perf_counter() - start)
    return result

for i in range(1, versions + 1):
    source = f"{folder}/artifacts/model-{i}.bin"
    tags = {"team": "a" if i % tag_every == 0 else "b"}
    timed("register", lambda: client.create_model_version("clf", source, tags=tags))
for i in range(promotions):
    number = str(1 + i % versions)
    timed("promote", lambda: client.transition_model_version_stage(
        "clf", number, "Production", archive_existing_versions=True))
client.set_registered_model_alias("clf", "champion", "5")
for _ in range(resolves):
    found = timed("resolve-production",
                  lambda: client.get_latest_versions("clf", stages=["Production"]))
    assert found and found[0].current_stage == "Production"
    timed("resolve-champion", lambda: client.get_model_version_by_alias("clf", "champion"))
for _ in range(list_repeats):
    found = timed("list", lambda: client.search_model_versions(
        "name = 'clf' and tags.team = 'a'", max_results=10000))
    assert len(found) == versions // tag_every, len(found)
print(json.dumps({"version": mlflow.__version__, "times": times}))
"""


class BenchError(RuntimeError):
    pass


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def cache_home() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "strata-bench"


def ensure_mlflow(venv: Path, spec: str) -> Path:
    """The Python of MLflow's own venv, created and installed on first use."""
    python = venv / "bin" / "python"
    if python.exists():
        probe = subprocess.run([python, "-c", "import mlflow"], capture_output=True)
        if probe.returncode == 0:
            return python
        log(f"the MLflow venv at {venv} is broken: installing it again")
        shutil.rmtree(venv)
    log(f"installing {spec} into {venv} (once; reused by later runs)")
    venv.parent.mkdir(parents=True, exist_ok=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    for step in (
        [sys.executable, "-m", "venv", str(venv)],
        [*pip, "--upgrade", "pip"],
        [*pip, spec],
    ):
        if subprocess.run(step).returncode != 0:
            raise BenchError(f"could not install MLflow: `{' '.join(step)}` failed")
    return python


def make_artifacts(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(1, count + 1):
        path = folder / f"model-{i}.bin"
        path.write_bytes(i.to_bytes(8, "little") * 128)
        paths.append(path)
    return paths


def _timed(times: dict[str, list[float]], key: str, call: Callable[[], object]) -> object:
    start = time.perf_counter()
    result = call()
    times.setdefault(key, []).append(time.perf_counter() - start)
    return result


def strata_run(
    folder: Path, artifacts: list[Path], promotions: int, resolves: int
) -> dict[str, list[float]]:
    from strata import Workspace

    ws = Workspace.init(folder / "strata", git=False)
    reg = ws.models
    times: dict[str, list[float]] = {}
    try:
        _fill(reg, artifacts, times)
        versions = len(artifacts)
        for i in range(promotions):
            ref = f"model:clf@{1 + i % versions}"
            _timed(times, "promote", partial(reg.promote, ref, "production"))
        reg.set_alias("model:clf@5", "champion")
        for _ in range(resolves):
            _timed(times, "resolve-production", lambda: reg.resolve("model:clf@production"))
            _timed(times, "resolve-champion", lambda: reg.resolve("model:clf@champion"))
        for _ in range(LIST_REPEATS):
            found = _timed(times, "list", lambda: reg.versions("clf", tags={"team": "a"}))
            assert isinstance(found, list) and len(found) == versions // TAG_EVERY
    finally:
        ws.close()
    return times


def _fill(reg: Registry, artifacts: list[Path], times: dict[str, list[float]]) -> None:
    for i, path in enumerate(artifacts, start=1):
        tags = {"team": "a" if i % TAG_EVERY == 0 else "b"}
        _timed(times, "register", partial(reg.register, "clf", path, tags=tags))


def strata_big_list(folder: Path, artifacts: list[Path]) -> list[float]:
    from strata import Workspace

    ws = Workspace.init(folder / "strata-big", git=False)
    times: dict[str, list[float]] = {}
    try:
        _fill(ws.models, artifacts, {})
        for _ in range(LIST_REPEATS):
            found = _timed(times, "list", lambda: ws.models.versions("clf", tags={"team": "a"}))
            assert isinstance(found, list) and len(found) == len(artifacts) // TAG_EVERY
    finally:
        ws.close()
    return times["list"]


def mlflow_run(
    python: Path, folder: Path, versions: int, promotions: int, resolves: int
) -> tuple[str, dict[str, list[float]]]:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    args = [str(folder), str(versions), str(promotions), str(resolves), str(TAG_EVERY)]
    done = subprocess.run(
        [str(python), "-c", MLFLOW_SCRIPT, *args, str(LIST_REPEATS)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"the MLflow script failed: {done.stderr.strip()[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["version"], result["times"]


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--promotions", type=int, default=100)
    parser.add_argument("--resolves", type=int, default=1000)
    parser.add_argument("--big", type=int, default=10_000, help="versions for the big listing")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes, one run")
    parser.add_argument("--mlflow-spec", default="mlflow", help="pip requirement for MLflow")
    parser.add_argument("--mlflow-venv", type=Path, default=cache_home() / "mlflow-venv")
    args = parser.parse_args()
    if args.quick:
        args.versions, args.promotions, args.resolves, args.big, args.runs = 100, 20, 100, 500, 1

    python = ensure_mlflow(args.mlflow_venv, args.mlflow_spec)
    strata_times: dict[str, list[float]] = {}
    mlflow_times: dict[str, list[float]] = {}
    mlflow_version = "?"
    with tempfile.TemporaryDirectory(prefix="strata-bench-models-") as tmp:
        base = Path(tmp)
        for run in range(args.runs):
            folder = base / f"run-{run}"
            artifacts = make_artifacts(folder / "artifacts", args.versions)
            log(f"run {run + 1}/{args.runs}: Strata")
            times = strata_run(folder, artifacts, args.promotions, args.resolves)
            for key, values in times.items():
                strata_times.setdefault(key, []).extend(values)
            log(f"run {run + 1}/{args.runs}: MLflow")
            mlflow_version, times = mlflow_run(
                python, folder, args.versions, args.promotions, args.resolves
            )
            for key, values in times.items():
                mlflow_times.setdefault(key, []).extend(values)
        log(f"Strata: the tag-filtered listing with {args.big} versions")
        big_artifacts = make_artifacts(base / "big-artifacts", args.big)
        big_list = strata_big_list(base, big_artifacts)

    met = True
    for key in ("register", "promote", "resolve-production", "resolve-champion", "list"):
        s, m = strata_times[key], mlflow_times[key]
        ratio = statistics.median(m) / statistics.median(s)
        row = {
            "case": key,
            "count": len(s),
            "strata_median_ms": ms(statistics.median(s)),
            "strata_p99_ms": ms(p99(s)),
            "mlflow_median_ms": ms(statistics.median(m)),
            "mlflow_p99_ms": ms(p99(m)),
            "ratio": round(ratio, 1),
        }
        if key in TARGETS:
            min_ratio, max_p99 = TARGETS[key]
            ok = ratio >= min_ratio and (max_p99 is None or ms(p99(s)) < max_p99)
            row["target"] = f">= {min_ratio}x" + (f", p99 < {max_p99} ms" if max_p99 else "")
            row["met"] = ok
            met = met and ok
        print(json.dumps(row), flush=True)
    big_ok = ms(statistics.median(big_list)) < BIG_LIST_TARGET_MS
    met = met and big_ok
    print(
        json.dumps(
            {
                "case": f"list-{args.big}",
                "strata_median_ms": ms(statistics.median(big_list)),
                "strata_p99_ms": ms(p99(big_list)),
                "matches": args.big // TAG_EVERY,
                "target": f"< {BIG_LIST_TARGET_MS} ms",
                "met": big_ok,
            }
        ),
        flush=True,
    )
    print(
        json.dumps(
            {
                "machine": platform.platform(),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "mlflow": mlflow_version,
                "versions": args.versions,
                "runs": args.runs,
                "all_targets_met": met,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
