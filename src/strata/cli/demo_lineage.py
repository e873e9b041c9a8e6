"""The lineage chapter of ``strata demo``: a run reads data and writes a derived data set, then
provenance answers where it came from, and the lineage graph is drawn in Mermaid.

The lead extends it to tables and models once those capabilities land.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from rich.markup import escape

from strata.workspace import Workspace

_SAMPLE = (
    "delivery_id,distance_km,weather,delay_min\n"
    "1-0,3.5,sun,4\n1-1,12.0,rain,15\n1-2,7.2,snow,31\n1-3,20.4,sun,6\n"
)


def _source(ws: Workspace) -> Path:
    """The deliveries folder an earlier chapter tracked, or a small sample file."""
    folder = ws.root / "data" / "deliveries"
    if (ws.root / "data" / "deliveries.strata").is_file():
        return folder
    sample = ws.root / "data" / "deliveries-sample.csv"
    sample.parent.mkdir(parents=True, exist_ok=True)
    sample.write_text(_SAMPLE, encoding="utf-8")
    ws.files.add([sample])
    return sample


def _mean_delay_by_weather(source: Path, target: Path) -> int:
    """Average delay per weather, from one CSV or a folder of them; the number of rows read."""
    files = sorted(source.glob("*.csv")) if source.is_dir() else [source]
    delays: dict[str, list[int]] = defaultdict(list)
    for path in files:
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                delays[row["weather"]].append(int(row["delay_min"]))
    tmp = target.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["weather", "mean_delay_min"])
        for weather, values in sorted(delays.items()):
            writer.writerow([weather, round(sum(values) / len(values), 2)])
    os.replace(tmp, target)
    return sum(len(v) for v in delays.values())


def chapter(ws: Workspace, say: Callable[[str], None]) -> None:
    source = _source(ws)
    relpath = source.relative_to(ws.root).as_posix()
    target = ws.root / "data" / "delay_by_weather.csv"
    features = ws.lineage.register_features("delivery", ["distance_km", "weather"])
    with ws.run("prepare-training-data", params={"aggregate": "mean"}) as run:
        source_ref = run.input(f"file:{relpath}")
        run.input(features.ref)
        rows = _mean_delay_by_weather(source, target)
        ws.files.add([target])  # recorded as the run's output, by content hash
        run.log_metric("rows_read", rows)
    record = ws.lineage.run(run.ref)
    [output] = record.outputs
    say(f"with ws.run('prepare-training-data'): read {escape(source_ref)}, wrote {escape(output)}")
    say(f"  {record.ref} {record.status}; metrics {record.metrics}; params {record.params}")

    chain = ws.lineage.provenance(output)
    git = chain["code"][0]
    code = "outside git" if git is None else f"commit {git['commit'][:12]}"
    say(f"strata provenance {escape(output)}:")
    for item in chain["data"]:
        say(f"  data     {escape(item['ref'])} ({item.get('size', '?')} bytes)")
    say(f"  features {features.ref}: {', '.join(features.features)}")
    env = record.environment
    say(f"  code     {code}, Python {env['python']}, host {env['host']}")
    say(f"strata lineage {escape(source_ref)} --downstream --format mermaid:")
    graph = ws.lineage.graph(source_ref, direction="downstream")
    for line in graph.render("mermaid").splitlines():
        say(escape(line))
