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
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from openlineage_events import dataset, run_event
from server_support import make_site, start_server

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--pipelines", type=int, default=50)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()
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
