"""An MLflow client's registry calls against ``strata server`` and ``mlflow server`` (both on
SQLite), side by side in one run: register + transition + alias + resolve, per call.

    .venv/bin/python benchmarks/bench_mlflow_api.py            # 50 calls each, 3 rounds
    .venv/bin/python benchmarks/bench_mlflow_api.py --quick    # 10 calls, 1 round

Both servers run as subprocesses on free loopback ports with one worker; the same client
script (``mlflow_registry_calls.py``, in MLflow's venv, ``benchmarks/.mlflow-venv``, made on
first use as ``bench_server.py`` makes it) logs a small pyfunc model in a run, then times each
of its calls: create_model_version from ``runs:/ID/model``, transition_model_version_stage to
Staging, set_registered_model_alias and get_model_version_by_alias. Rounds alternate between
the servers. Strata's client authenticates (HTTP basic with a maintainer's token, every call
checked); MLflow's server has no authentication. Prints one JSON line per call with the
median and p90 milliseconds of each server and the ratio MLflow / Strata of the medians
(above 1: Strata answers faster), then the machine.
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
from pathlib import Path
from typing import Any

from bench_server import (
    STRATA,
    BenchError,
    Server,
    ensure_mlflow,
    free_port,
    log,
    mlflow_version,
    start,
    start_mlflow,
    strata_env,
)

HERE = Path(__file__).resolve().parent
CALLS = ("register", "transition", "alias", "resolve")
TARGET_RATIO = 3.0


def strata_workspace(root: Path) -> str:
    """A workspace with a maintainer, ``bench``; returns the maintainer's token."""
    from strata import Workspace

    root.mkdir(parents=True)
    Workspace.init(root, git=False).close()
    with Workspace(root) as ws:
        ws.users.add("bench", "maintainer", by="bench")
        return ws.users.create_token("bench")[1]


def start_strata(root: Path) -> Server:
    port = free_port()
    command = [str(STRATA), "server", "--port", str(port)]
    return start("strata", 1, command, port, root, strata_env(root.parent))


def client_run(python: Path, server: Server, model: str, calls: int, token: str | None) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "STRATA_"))}
    env.update(MLFLOW_TRACKING_URI=server.url, PYTHONPATH="", GIT_PYTHON_REFRESH="quiet")
    if token is not None:
        env.update(MLFLOW_TRACKING_USERNAME="bench", MLFLOW_TRACKING_PASSWORD=token)
    script = HERE / "mlflow_registry_calls.py"
    done = subprocess.run(
        [str(python), str(script), model, str(calls)], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BenchError(f"the client failed against {server.name}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=50, help="registrations per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10 calls, one round")
    parser.add_argument("--mlflow-spec", default="mlflow>=3,<4", help="pip requirement")
    parser.add_argument("--mlflow-venv", type=Path, default=HERE / ".mlflow-venv")
    args = parser.parse_args()
    if args.quick:
        args.calls, args.rounds = 10, 1
    args.mlflow_venv = args.mlflow_venv.resolve()
    mlflow = ensure_mlflow(args.mlflow_venv, args.mlflow_spec)
    python = args.mlflow_venv / "bin" / "python"
    times: dict[str, dict[str, list[float]]] = {"strata": {}, "mlflow": {}}
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="strata-bench-mlflow-") as tmp:
        base = Path(tmp)
        try:
            token = strata_workspace(base / "strata")
            (base / "mlflow").mkdir()
            servers = [start_strata(base / "strata"), start_mlflow(mlflow, base / "mlflow", 1)]
            for round_ in range(1, args.rounds + 1):
                for server in servers:
                    log(f"round {round_}/{args.rounds}: {server.name}, {args.calls} calls")
                    found = client_run(
                        python, server, f"clf-{round_}", args.calls,
                        token if server.name == "strata" else None,
                    )  # fmt: skip
                    for call in CALLS:
                        times[server.name].setdefault(call, []).extend(found[call])
        finally:
            for server in servers:
                server.stop()
    for call in CALLS:
        strata, mlflow_ms = times["strata"][call], times["mlflow"][call]
        ratio = statistics.median(mlflow_ms) / statistics.median(strata)
        row = {
            "call": call,
            "strata_p50_ms": round(statistics.median(strata), 2),
            "strata_p90_ms": round(p90(strata), 2),
            "mlflow_p50_ms": round(statistics.median(mlflow_ms), 2),
            "mlflow_p90_ms": round(p90(mlflow_ms), 2),
            "ratio": round(ratio, 2),
            "goal_met": ratio >= TARGET_RATIO,
        }
        print(json.dumps(row), flush=True)
    machine = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "mlflow": mlflow_version(args.mlflow_venv),
        "calls": args.calls * args.rounds,
        "loadavg": os.getloadavg()[0],
    }
    print(json.dumps(machine), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        log(f"error: {exc}")
        sys.exit(1)
