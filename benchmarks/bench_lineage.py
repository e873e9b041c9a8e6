"""Lineage queries on a large synthetic history, on SQLite and on PostgreSQL.

The history is what many pipelines running daily leave behind: each pipeline ingests a source
file into a raw table, cleans it, builds a feature table, and on 40% of days trains a model
version (a fifth of them deployed). Every run also reads the seven dimension tables of its
pipeline (new versions weekly) and the previous day's version of its own output (incremental
tables), so about ten edges per run and long chains across days.

Timed through the Python API (``Lineage``), each query repeated on different pipelines:
``impact`` of a 13-version table range, ``lineage --downstream`` to depth 20, and
``provenance`` of one model version. Printed: one JSON line per backend, scale and query, with
the median and p99 in milliseconds, and the graph's size.

    .venv/bin/python benchmarks/bench_lineage.py                     # 10k, 100k, 1M edges
    .venv/bin/python benchmarks/bench_lineage.py --edges 10000 --repeat 10

Marquez, the reference OpenLineage server, is not run side by side: a JVM is here, but no
Marquez distribution (nor the network to fetch one), so its figures are not measured here.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from strata.lineage import Lineage
from strata.lineage.ids import new_run_id
from strata.meta import MetadataDB, open_database
from strata.meta.schema import (
    lineage_deployments,
    lineage_edges,
    lineage_nodes,
    lineage_runs,
)

DAYS = 100
DIMENSIONS = 7
EDGES_PER_PIPELINE_DAY = 34  # 3.4 runs a day, ~10 edges each, and deployments
BATCH = 20_000


class History:
    """Rows for nodes, edges and runs, built in memory with ids assigned here."""

    def __init__(self) -> None:
        self.node_ids: dict[str, int] = {}
        self.edges: list[dict[str, Any]] = []
        self.runs: list[dict[str, Any]] = []
        self.deployments: list[dict[str, Any]] = []
        self.start = datetime(2024, 1, 1, tzinfo=UTC)

    def node(self, ref: str) -> int:
        found = self.node_ids.get(ref)
        if found is None:
            found = self.node_ids[ref] = len(self.node_ids) + 1
        return found

    def run(self, job: str, day: int, inputs: list[str], outputs: list[str]) -> None:
        when = self.start + timedelta(days=day, seconds=len(self.runs) % 86_400)
        run_id = new_run_id(int(when.timestamp() * 1000))
        self.runs.append(
            {
                "id": run_id, "job": job, "namespace": "bench", "status": "completed",
                "started_at": when, "ended_at": when + timedelta(minutes=5), "exit_code": 0,
                "command": None, "params": "{}", "metrics": "{}", "environment": "{}",
                "git_commit": None, "git_dirty": False, "host": "bench", "pid": None,
                "error": None,
            }
        )  # fmt: skip
        node = self.node(f"run:{run_id}")
        for ref in inputs:
            self.edge(self.node(ref), node, "input", run_id, when)
        for ref in outputs:
            self.edge(node, self.node(ref), "output", run_id, when)

    def deploy(self, model: str, deployment_id: str, when: datetime) -> None:
        self.deployments.append(
            {"id": deployment_id, "model": model, "target": "prod-serving",
             "image": f"ml-serving:{when:%Y.%m.%d}", "deployed_at": when, "run_id": None}
        )  # fmt: skip
        self.edge(
            self.node(model), self.node(f"deployment:{deployment_id}"), "deployed", None, when
        )

    def edge(self, src: int, dst: int, kind: str, run_id: str | None, when: datetime) -> None:
        self.edges.append(
            {"src_id": src, "dst_id": dst, "kind": kind, "run_id": run_id, "recorded_at": when}
        )


def _previous(pipeline: int, day: int) -> Callable[[str], list[str]]:
    """The previous day's version of a pipeline's own table, which incremental runs read."""

    def previous(name: str) -> list[str]:
        return [f"table:p{pipeline}_{name}@{day}"] if day else []

    return previous


def build(pipelines: int, seed: int = 7) -> History:
    rng = random.Random(seed)
    h = History()
    for p in range(pipelines):
        model_version = 0
        for day in range(DAYS):
            dims = [f"table:p{p}_dim{j}@{day // 7 + 1}" for j in range(DIMENSIONS)]
            prev = _previous(p, day)
            source = f"file:src/p{p}/day{day}.csv@{rng.getrandbits(48):012x}"
            h.run(f"p{p}-ingest", day, [source, *prev("raw"), *dims], [f"table:p{p}_raw@{day + 1}"])
            h.run(
                f"p{p}-clean", day, [f"table:p{p}_raw@{day + 1}", *prev("clean"), *dims],
                [f"table:p{p}_clean@{day + 1}"],
            )  # fmt: skip
            h.run(
                f"p{p}-features", day,
                [f"table:p{p}_clean@{day + 1}", *prev("feat"), f"features:p{p}@1", *dims],
                [f"table:p{p}_feat@{day + 1}"],
            )  # fmt: skip
            if day % 5 in (0, 2):
                model_version += 1
                model = f"model:p{p}_clf@{model_version}"
                h.run(
                    f"p{p}-train", day,
                    [f"table:p{p}_feat@{day + 1}", f"features:p{p}@1", *dims[:5]], [model],
                )  # fmt: skip
                if model_version % 5 == 0:
                    h.deploy(model, f"p{p}-{model_version}", h.start + timedelta(days=day))
    return h


def _node_row(ref: str, node_id: int) -> dict[str, Any]:
    kind, _, rest = ref.partition(":")
    name, _, selector = rest.partition("@")
    version = int(selector) if kind in ("table", "model", "features") else None
    return {"id": node_id, "ref": ref, "kind": kind, "name": name, "version": version}


def load(db: MetadataDB, h: History) -> None:
    """Insert the history in batches, its node ids after those the database holds already."""
    with db.transaction("bench load", write=True) as connection:
        offset = connection.execute(sa.select(sa.func.max(lineage_nodes.c.id))).scalar() or 0
    nodes = [_node_row(ref, i + offset) for ref, i in h.node_ids.items()]
    edges = [{**e, "src_id": e["src_id"] + offset, "dst_id": e["dst_id"] + offset} for e in h.edges]
    tables = (
        (lineage_nodes, nodes),
        (lineage_runs, h.runs),
        (lineage_edges, edges),
        (lineage_deployments, h.deployments),
    )
    for table, rows in tables:
        for start in range(0, len(rows), BATCH):
            with db.transaction("bench load", write=True) as connection:
                connection.execute(sa.insert(table), rows[start : start + BATCH])
    with db.transaction("bench analyze", write=True) as connection:
        connection.execute(sa.text("ANALYZE"))


def timed(case: Callable[[int], object], pipelines: list[int]) -> list[float]:
    """Milliseconds of one call per pipeline."""
    times = []
    for pipeline in pipelines:
        began = time.perf_counter()
        case(pipeline)
        times.append((time.perf_counter() - began) * 1000)
    return times


def summary(times: list[float]) -> dict[str, float]:
    p99 = statistics.quantiles(times, n=100)[98] if len(times) > 1 else times[0]
    return {"median_ms": round(statistics.median(times), 1), "p99_ms": round(p99, 1)}


@contextmanager
def databases(backends: list[str]) -> Iterator[Callable[[str], str]]:
    """Yields new_url(backend) → the URL of a new empty database."""
    cluster = None
    with tempfile.TemporaryDirectory(prefix="strata-bench-lineage-") as tmp:
        counter = iter(range(1_000_000))

        def new_url(backend: str) -> str:
            nonlocal cluster
            if backend == "sqlite":
                return f"sqlite:///{tmp}/lineage-{next(counter)}.db"
            if cluster is None:
                from pg_cluster import start_cluster

                cluster = start_cluster()
            return cluster.create_database()

        try:
            yield new_url
        finally:
            if cluster is not None:
                cluster.stop()


def bench(url: str, backend: str, edges: int, repeat: int, root: Path) -> None:
    pipelines = max(1, round(edges / (EDGES_PER_PIPELINE_DAY * DAYS)))
    began = time.perf_counter()
    h = build(pipelines)
    db = open_database(url)
    try:
        load(db, h)
        built = time.perf_counter() - began
        lineage = Lineage(db, root, namespace="bench")
        rng = random.Random(1)
        picks = [rng.randrange(pipelines) for _ in range(repeat)]
        cases: dict[str, Callable[[int], object]] = {
            "impact table@40..52": lambda p: lineage.impact(f"table:p{p}_raw@40..52"),
            "lineage --downstream --depth 20": lambda p: lineage.graph(
                f"table:p{p}_raw@10", direction="downstream", depth=20
            ),
            "provenance model": lambda p: lineage.provenance(f"model:p{p}_clf@20"),
        }
        for name, case in cases.items():
            case(picks[0])  # warm
            times = timed(case, picks)
            print(
                json.dumps(
                    {
                        "backend": backend, "edges": len(h.edges), "runs": len(h.runs),
                        "nodes": len(h.node_ids),
                        "models": sum(r.startswith("model:") for r in h.node_ids),
                        "query": name, **summary(times), "repeat": repeat,
                        "load_s": round(built, 1),
                    }
                ),
                flush=True,
            )  # fmt: skip
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", default="10000,100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    backends = args.backends.split(",")
    with databases(backends) as new_url, tempfile.TemporaryDirectory() as root:
        for edges in (int(e) for e in args.edges.split(",")):
            for backend in backends:
                bench(new_url(backend), backend, edges, args.repeat, Path(root))


if __name__ == "__main__":
    main()
