"""OpenLineage events into ``strata server`` over HTTP, and the lineage queries after them.

    .venv/bin/python benchmarks/bench_lineage_server.py                 # 10,000 events
    .venv/bin/python benchmarks/bench_lineage_server.py --events 2000 --clients 2

Builds the tests' site (a workspace with users, so every request carries a Bearer token and is
checked) and starts ``strata server`` (1 worker, SQLite) on a free loopback port. Then posts
EVENTS RunEvents, a START and a COMPLETE for each run, as the Spark integration sends them:
PIPELINES pipelines, one run a day each; a run reads that day's raw file and its pipeline's
dimension table and writes a new version of its gold table. CLIENTS threads post, each over its
own keep-alive connection, JSON bodies (``--gzip`` to compress them as the client's gzip
option does). Prints one JSON line: events/s, p50/p99 of a post, the graph's size, and the
median time of the two lineage queries over the result (Marquez's ``/lineage?nodeId=`` and
Strata's ``/lineage/{ref}``, depth 20).

    .venv/bin/python benchmarks/bench_lineage_server.py --scale 1000000 --backends sqlite,postgresql

With ``--scale EDGES``, no events are posted: the history of ``bench_lineage.py`` (daily
pipelines of Strata runs, tables, feature sets and models, about ten edges a run) is loaded
in batches into the served workspace's metadata database, then timed over HTTP (medians of
REPEAT, a different pipeline each time): Strata's ``GET /lineage/table:pN_raw@10`` downstream
and Marquez's ``GET /lineage?nodeId=dataset:strata:table:pN_raw`` (every version of the table,
both ways) at several depths, ``GET /impact/table:pN_raw@40..52``, and ``strata impact`` of
the same range as a command (a new process each time, Python's start included).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lineage import DAYS, EDGES_PER_PIPELINE_DAY, build, databases, load

from factories import STRATA
from openlineage_events import dataset, run_event
from server_support import Site, make_site, start_server

API = "/api/v1"


def pipeline_events(events: int, pipelines: int) -> list[dict[str, Any]]:
    """The START and COMPLETE of each run, in order, the pipelines' runs day after day."""
    runs = events // 2
    ordered: list[dict[str, Any]] = []
    for day in range(runs // pipelines + 1):
        for p in range(pipelines):
            if len(ordered) >= runs * 2:
                break
            run_id, when = str(uuid.uuid4()), f"2024-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}"
            inputs = [
                dataset("s3://raw", f"p{p}/day{day}"),
                dataset("postgres://dw:5432", f"dim.p{p}"),
            ]
            outputs = [dataset("s3://lake", f"gold/p{p}", str(day))]
            for kind, hour in (("START", "10"), ("COMPLETE", "11")):
                ordered.append(
                    run_event(
                        kind,
                        run_id,
                        job=f"pipeline_{p}.build",
                        when=f"{when}T{hour}:00:00+00:00",
                        inputs=inputs,
                        outputs=outputs,
                    )
                )
    return ordered


def post_all(url: str, token: str, events: list[dict[str, Any]], compress: bool) -> list[float]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if compress:
        headers["Content-Encoding"] = "gzip"
    took = []
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for event in events:
            body = json.dumps(event).encode()
            began = time.perf_counter()
            answer = client.post(
                f"{API}/lineage", content=gzip.compress(body) if compress else body
            )
            took.append(time.perf_counter() - began)
            if answer.status_code != 201:
                raise SystemExit(f"POST failed: {answer.status_code} {answer.text}")
    return took


def query_ms(url: str, token: str, path: str, params: dict[str, Any], repeat: int = 5) -> float:
    took = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=300) as c:
        for _ in range(repeat):
            began = time.perf_counter()
            answer = c.get(f"{API}{path}", params=params)
            took.append(time.perf_counter() - began)
            answer.raise_for_status()
    return statistics.median(took) * 1000


DEPTHS = (2, 5, 20)


def timed_ms(call: Any, picks: list[int]) -> float:
    """The median milliseconds of ``call(pipeline)`` over ``picks``, after one warm call."""
    call(picks[0])
    took = []
    for pick in picks:
        began = time.perf_counter()
        call(pick)
        took.append(time.perf_counter() - began)
    return round(statistics.median(took) * 1000, 1)


def scale(backend: str, url: str | None, edges: int, repeat: int, tmp: Path) -> None:
    """Load an ``edges``-edge history into a served workspace, then time the queries."""
    site = make_site(tmp / f"ws-{backend}-{edges}", url)
    pipelines = max(1, round(edges / (EDGES_PER_PIPELINE_DAY * DAYS)))
    began = time.perf_counter()
    history = build(pipelines)
    with site.workspace() as ws:
        load(ws.lineage.db, history)
    loaded = time.perf_counter() - began
    picks = [random.Random(1).randrange(pipelines) for _ in range(repeat)]
    server = start_server(site.root, site.env)
    headers = {"Authorization": f"Bearer {site.tokens['bo']}"}  # a viewer
    try:
        with httpx.Client(base_url=server.url + API, headers=headers, timeout=600) as client:

            def get(path: str, **params: Any) -> Any:
                answer = client.get(path, params=params)
                answer.raise_for_status()
                return answer.json()

            row: dict[str, Any] = {"backend": backend, "edges": len(history.edges)}
            row["runs"], row["load_s"] = len(history.runs), round(loaded, 1)
            for depth in DEPTHS:
                row[f"strata_down_d{depth}_ms"] = timed_ms(
                    lambda p, d=depth: get(
                        f"/lineage/table:p{p}_raw@10", direction="down", depth=d
                    ),
                    picks,
                )
                row[f"marquez_d{depth}_ms"] = timed_ms(
                    lambda p, d=depth: get(
                        "/lineage", nodeId=f"dataset:strata:table:p{p}_raw", depth=d
                    ),
                    picks,
                )
            row["marquez_d20_nodes"] = len(
                get("/lineage", nodeId=f"dataset:strata:table:p{picks[0]}_raw", depth=20)["graph"]
            )
            row["impact_api_ms"] = timed_ms(lambda p: get(f"/impact/table:p{p}_raw@40..52"), picks)
            row["impact_cli_ms"] = timed_ms(lambda p: impact_command(site, p), picks[:5])
            print(json.dumps(row), flush=True)
    finally:
        server.stop()


def impact_command(site: Site, pipeline: int) -> None:
    ran = subprocess.run(
        [STRATA, "impact", f"table:p{pipeline}_raw@40..52", "--json"],
        cwd=site.root,
        env=site.env,
        capture_output=True,
        check=False,
    )
    if ran.returncode != 0:
        raise SystemExit(f"strata impact failed: {ran.stderr.decode()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--pipelines", type=int, default=50)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--scale", type=int, help="load a history of this many edges instead")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    if args.scale:
        backends = args.backends.split(",")
        with databases(backends) as new_url, tempfile.TemporaryDirectory() as tmp:
            for backend in backends:
                url = None if backend == "sqlite" else new_url(backend)
                scale(backend, url, args.scale, args.repeat, Path(tmp))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        site = make_site(Path(tmp) / "ws", None)
        server = start_server(site.root, site.env)
        token = site.tokens["cy"]  # an editor
        try:
            ordered = pipeline_events(args.events, args.pipelines)
            # A run's START and COMPLETE go to the same client, in order; runs are spread.
            batches: list[list[dict[str, Any]]] = [[] for _ in range(args.clients)]
            for index in range(0, len(ordered), 2):
                batches[(index // 2) % args.clients].extend(ordered[index : index + 2])
            began = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                results = list(
                    pool.map(lambda b: post_all(server.url, token, b, args.gzip), batches)
                )
            seconds = time.perf_counter() - began
            took = sorted(t for r in results for t in r)
            with site.workspace() as ws:
                edges = sum(len(r.inputs) + len(r.outputs) for r in ws.lineage.runs(limit=10**6))
            root = {"nodeId": "dataset:s3://lake:gold/p0", "depth": 20}
            row = {
                "events": len(ordered),
                "clients": args.clients,
                "gzip": args.gzip,
                "seconds": round(seconds, 2),
                "events_per_s": round(len(ordered) / seconds, 1),
                "post_p50_ms": round(took[len(took) // 2] * 1000, 2),
                "post_p99_ms": round(took[int(len(took) * 0.99)] * 1000, 2),
                "edges": edges,
                "marquez_lineage_ms": round(query_ms(server.url, token, "/lineage", root), 1),
                "strata_lineage_ms": round(
                    query_ms(
                        server.url, token, "/lineage/dataset:s3://lake/gold/p0", {"depth": 20}
                    ),
                    1,
                ),
            }
            print(json.dumps(row))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
