"""Strata's server against ``mlflow server``, both on SQLite: resolving @production under load.

    .venv/bin/python benchmarks/bench_server.py              # 32 clients, 10 s, 3 runs
    .venv/bin/python benchmarks/bench_server.py --quick      # 2 s, 1 run, a smoke test
    .venv/bin/python benchmarks/bench_server.py --load httpx --duration 5

Builds a workspace with the model ``delay-clf`` (3 versions, version 3 in production) and a
viewer with a token, and an MLflow SQLite store with the same model and a ``production``
alias (registered through MLflow's REST API). Starts ``strata server`` and ``mlflow server``
as subprocesses on free loopback ports, each with 1 worker and with 2, and loads each with
CLIENTS concurrent keep-alive connections for DURATION seconds, once they have all gone quiet
after starting (MLflow's job runner and task consumers keep a core busy for seconds after it
answers) and each has had a short warm-up load:

  Strata  GET /api/v1/refs/model:delay-clf@production                 (Bearer token)
  MLflow  GET /api/2.0/mlflow/registered-models/alias?name=delay-clf&alias=production

The load generator is ``wrk`` when it is installed (``apt-get install -y wrk``), else Python
asyncio + httpx with a pool of CLIENTS connections in this process (heavier: it competes with
the servers for the CPU). The servers are measured one after the other, RUNS times in turn.

MLflow is installed the first time into its own venv, ``benchmarks/.mlflow-venv`` (git-ignored;
``python3 -m venv`` + ``pip install mlflow``, minutes), since its dependencies clash with
Strata's. Prints one JSON line per measurement (p50/p99 ms, requests/s, errors, load average
at start and end), then one per worker count with the medians over the runs and the ratio
Strata/MLflow of requests/s (above 1: Strata serves more), then the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

MODEL = "delay-clf"
VERSIONS = 3  # version 3 is in production
STRATA_PATH = f"/api/v1/refs/model:{MODEL}@production"
MLFLOW_PATH = f"/api/2.0/mlflow/registered-models/alias?name={MODEL}&alias=production"
TIMEOUT_S = 30  # a slower answer counts as an error (wrk's default, 2 s, is too short here)
TARGET_P99_MS = 20.0
SETTLE_LIMIT_S = 90  # at most this long waiting for the servers to go quiet after starting
WARM_UP_S = 2.0  # per server before the measured runs, figures dropped
TARGET_RATIO = 5.0
HERE = Path(__file__).resolve().parent
STRATA = Path(sys.executable).parent / "strata"


class BenchError(RuntimeError):
    pass


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


# --- MLflow's venv and store -------------------------------------------------------------


def ensure_mlflow(venv: Path, spec: str) -> Path:
    """The ``mlflow`` command of MLflow's own venv, created and installed on first use."""
    mlflow = venv / "bin" / "mlflow"
    python = venv / "bin" / "python"
    if mlflow.exists():
        probe = subprocess.run([python, "-c", "import mlflow"], capture_output=True)
        if probe.returncode == 0:
            return mlflow
        log(f"the MLflow venv at {venv} is broken: installing it again")
        shutil.rmtree(venv)
    log(f"installing {spec} into {venv} (once, takes minutes; reused by later runs)")
    pip = [str(python), "-m", "pip", "install", "-q"]
    for step in (["python3", "-m", "venv", str(venv)], [*pip, "--upgrade", "pip"], [*pip, spec]):
        log(f"  $ {' '.join(step)}")
        if subprocess.run(step).returncode != 0:
            raise BenchError(f"could not install MLflow: `{' '.join(step)}` failed")
    return mlflow


def mlflow_version(venv: Path) -> str:
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import mlflow; print(mlflow.__version__)"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() or "?"


def post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            result: dict[str, Any] = json.loads(response.read() or b"{}")
            return result
    except urllib.error.HTTPError as exc:
        raise BenchError(f"POST {url}: {exc.code} {exc.read().decode(errors='replace')}") from None


def fill_mlflow(url: str) -> None:
    """delay-clf with VERSIONS versions and the alias production on the last one. The
    sources are URIs MLflow records without reading (it refuses local paths outside a run)."""
    api = f"{url}/api/2.0/mlflow"
    post_json(f"{api}/registered-models/create", {"name": MODEL})
    for number in range(1, VERSIONS + 1):
        source = f"s3://strata-bench/{MODEL}/{number}"
        post_json(f"{api}/model-versions/create", {"name": MODEL, "source": source})
    body = {"name": MODEL, "alias": "production", "version": str(VERSIONS)}
    post_json(f"{api}/registered-models/alias", body)


# --- Strata's workspace ------------------------------------------------------------------


def strata_env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    env.update(STRATA_USER="bench-server", NO_COLOR="1", GIT_CEILING_DIRECTORIES=str(base))
    return env


def make_workspace(root: Path) -> str:
    """delay-clf with VERSIONS versions, the last in production; returns a viewer's token."""
    from strata import Workspace

    root.mkdir(parents=True)
    Workspace.init(root, git=False).close()
    with Workspace(root) as ws:
        for number in range(1, VERSIONS + 1):
            artifact = root / f"model-{number}.bin"
            artifact.write_bytes(f"{MODEL} {number}".encode())
            ws.models.register(MODEL, artifact)
        ws.models.promote(f"model:{MODEL}@{VERSIONS}", "production")
        ws.users.add("bench", "viewer", by="bench")
        return ws.users.create_token("bench")[1]


# --- servers -----------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    workers: int
    process: subprocess.Popen[bytes]
    url: str
    path: str
    headers: dict[str, str]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    name: str, workers: int, command: list[str], port: int, cwd: Path, env: dict[str, str]
) -> Server:
    log_path = cwd.parent / f"{name}-{workers}w.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    health = "/api/v1/health" if name == "strata" else "/health"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise BenchError(f"{name} server exited {process.returncode}:\n{tail}")
        try:
            if httpx.get(url + health, timeout=1).status_code == 200:
                return Server(name, workers, process, url, "", {}, log_path)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise BenchError(f"{name} server did not answer within 120 s (log: {log_path})")


def start_strata(root: Path, token: str, workers: int) -> Server:
    port = free_port()
    command = [str(STRATA), "server", "--port", str(port), "--workers", str(workers)]
    server = start("strata", workers, command, port, root, strata_env(root.parent))
    server.path, server.headers = STRATA_PATH, {"Authorization": f"Bearer {token}"}
    answer = httpx.get(server.url + server.path, headers=server.headers, timeout=30)
    if answer.status_code != 200 or answer.json().get("version") != VERSIONS:
        raise BenchError(f"Strata resolved @production to {answer.status_code} {answer.text}")
    return server


def start_mlflow(mlflow: Path, folder: Path, workers: int) -> Server:
    port = free_port()
    command = [
        str(mlflow),
        "server",
        "--backend-store-uri",
        f"sqlite:///{folder / 'mlflow.db'}",
        "--default-artifact-root",
        str(folder / "mlartifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    server = start("mlflow", workers, command, port, folder, env)
    server.path = MLFLOW_PATH
    return server


def check_mlflow(server: Server) -> None:
    answer = httpx.get(server.url + server.path, timeout=30)
    found = answer.json().get("model_version", {}) if answer.status_code == 200 else {}
    if found.get("version") != str(VERSIONS):
        raise BenchError(f"MLflow resolved the alias to {answer.status_code} {answer.text}")


# --- load --------------------------------------------------------------------------------


@dataclass
class Result:
    p50_ms: float
    p99_ms: float
    rps: float
    requests: int
    errors: int


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_ms(text: str, percent: str) -> float:
    match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    if match is None:
        raise BenchError(f"no {percent}% latency in wrk's output:\n{text}")
    return float(match[1]) * _UNIT_MS[match[2]]


def wrk_load(server: Server, clients: int, duration: float, threads: int) -> Result:
    command = ["wrk", "--latency", "--timeout", f"{TIMEOUT_S}s", f"-t{threads}", f"-c{clients}"]
    command.append(f"-d{duration:g}s")
    for key, value in server.headers.items():
        command += ["-H", f"{key}: {value}"]
    done = subprocess.run([*command, server.url + server.path], capture_output=True, text=True)
    text = done.stdout
    if done.returncode != 0:
        raise BenchError(f"wrk failed: {done.stderr.strip()}")
    total = re.search(r"(\d+) requests in", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if total is None or rps is None:
        raise BenchError(f"cannot read wrk's output:\n{text}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(non_2xx[1]) if non_2xx else 0
    return Result(_wrk_ms(text, "50"), _wrk_ms(text, "99"), float(rps[1]), int(total[1]), errors)


async def _httpx_load(server: Server, clients: int, duration: float) -> Result:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(
        base_url=server.url, headers=server.headers, limits=limits, timeout=TIMEOUT_S
    ) as client:

        async def one_client(deadline: float) -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                try:
                    answer = await client.get(server.path)
                    ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - began)
                errors += not ok

        began = time.perf_counter()
        await asyncio.gather(*(one_client(began + duration) for _ in range(clients)))
        took = time.perf_counter() - began
    ordered = sorted(latencies)
    return Result(
        round(statistics.median(ordered) * 1000, 3),
        round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000, 3),
        len(ordered) / took,
        len(ordered),
        errors,
    )


def _cpu_ticks(roots: set[int]) -> int:
    """CPU time (clock ticks) used so far by the processes ``roots`` and their descendants."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        pid = int(stat.parent.name)
        parents[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
    total = 0
    for pid, used in ticks.items():
        ancestor = pid
        while ancestor not in roots and ancestor > 1:
            ancestor = parents.get(ancestor, 0)
        total += used if ancestor in roots else 0
    return total


def settle(servers: list[Server], quiet: float = 0.05, limit_s: float = SETTLE_LIMIT_S) -> None:
    """Wait until the servers and their helpers have done starting up (MLflow's job runner
    and task consumers start after it answers, and burn CPU for many seconds): until they use
    under ``quiet`` of a core over a second, at most ``limit_s``. Linux only (``/proc``)."""
    if not Path("/proc/self/stat").exists():
        return
    roots = {server.process.pid for server in servers}
    hertz = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + limit_s
    before = _cpu_ticks(roots)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = _cpu_ticks(roots)
        if now - before < quiet * hertz:
            return
        before = now
    log(f"the servers still used CPU after {limit_s:g} s: measuring anyway")


def warm_up(server: Server, args: argparse.Namespace) -> None:
    """A short load whose figures are dropped: first requests fill caches and pools."""
    seconds = min(WARM_UP_S, args.duration)
    if args.load == "wrk":
        wrk_load(server, args.clients, seconds, args.wrk_threads)
    else:
        asyncio.run(_httpx_load(server, args.clients, seconds))


def measure(server: Server, args: argparse.Namespace, run: int) -> dict[str, Any]:
    before = loadavg()
    if args.load == "wrk":
        result = wrk_load(server, args.clients, args.duration, args.wrk_threads)
    else:
        result = asyncio.run(_httpx_load(server, args.clients, args.duration))
    row = {
        "server": server.name,
        "workers": server.workers,
        "run": run,
        "p50_ms": round(result.p50_ms, 2),
        "p99_ms": round(result.p99_ms, 2),
        "rps": round(result.rps, 1),
        "requests": result.requests,
        "errors": result.errors,
        "loadavg_start": before,
        "loadavg_end": loadavg(),
    }
    print(json.dumps(row), flush=True)
    return row


def summary(rows: list[dict[str, Any]], workers: int) -> dict[str, Any]:
    def median(server: str, key: str) -> float:
        values = [float(r[key]) for r in rows if r["server"] == server and r["workers"] == workers]
        return round(statistics.median(values), 2)

    strata_rps, mlflow_rps = median("strata", "rps"), median("mlflow", "rps")
    ratio = strata_rps / mlflow_rps if mlflow_rps else float("inf")
    errors = sum(r["errors"] for r in rows if r["server"] == "strata" and r["workers"] == workers)
    met = median("strata", "p99_ms") < TARGET_P99_MS and errors == 0 and ratio >= TARGET_RATIO
    return {
        "workers": workers,
        "strata_p50_ms": median("strata", "p50_ms"),
        "strata_p99_ms": median("strata", "p99_ms"),
        "strata_rps": strata_rps,
        "strata_errors": errors,
        "mlflow_p50_ms": median("mlflow", "p50_ms"),
        "mlflow_p99_ms": median("mlflow", "p99_ms"),
        "mlflow_rps": mlflow_rps,
        "mlflow_errors": sum(
            r["errors"] for r in rows if r["server"] == "mlflow" and r["workers"] == workers
        ),
        "ratio_rps": round(ratio, 2),
        "target": f"Strata p99 < {TARGET_P99_MS:g} ms, 0 errors, >= {TARGET_RATIO:g}x MLflow",
        "met": met,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--load", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="2 s, one run")
    parser.add_argument("--mlflow-spec", default="mlflow", help="pip requirement for MLflow")
    parser.add_argument("--mlflow-venv", type=Path, default=HERE / ".mlflow-venv")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.runs = 2.0, 1
    if args.load == "auto":
        args.load = "wrk" if shutil.which("wrk") else "httpx"
        if args.load == "httpx":
            log("wrk is not installed (`apt-get install -y wrk`): loading with asyncio + httpx")
    elif args.load == "wrk" and not shutil.which("wrk"):
        raise BenchError("wrk is not installed: `apt-get install -y wrk`, or --load httpx")
    worker_counts = [int(w) for w in args.workers.split(",")]

    mlflow = ensure_mlflow(args.mlflow_venv, args.mlflow_spec)
    rows: list[dict[str, Any]] = []
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="strata-bench-server-") as tmp:
        base = Path(tmp)
        try:
            log("building the Strata workspace and the MLflow store")
            token = make_workspace(base / "strata")
            (base / "mlflow").mkdir()
            for workers in worker_counts:
                log(f"starting strata server and mlflow server, {workers} worker(s)")
                servers.append(start_strata(base / "strata", token, workers))
                servers.append(start_mlflow(mlflow, base / "mlflow", workers))
                if workers == worker_counts[0]:
                    fill_mlflow(servers[-1].url)
                check_mlflow(servers[-1])
            settle(servers)
            for server in servers:
                warm_up(server, args)
            for run in range(1, args.runs + 1):
                for server in servers:
                    log(f"run {run}/{args.runs}: {server.name}, {server.workers} worker(s)")
                    rows.append(measure(server, args, run))
        finally:
            for server in servers:
                server.stop()
    for workers in worker_counts:
        print(json.dumps(summary(rows, workers)), flush=True)
    machine = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "mlflow": mlflow_version(args.mlflow_venv),
        "load": args.load,
        "clients": args.clients,
        "duration_s": args.duration,
        "runs": args.runs,
    }
    print(json.dumps(machine), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        log(f"error: {exc}")
        sys.exit(1)
