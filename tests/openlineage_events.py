"""OpenLineage events for the server's tests: the integrations' own (``tests/server/
openlineage_events/``, completed where they leave things open) and small ones built here.

    events = integration_events("dbt")           # START and COMPLETE of one dbt model run
    event = run_event("COMPLETE", run_id, job="etl", outputs=[("file", "/data/x")])
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent / "server" / "openlineage_events"
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration"
SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
OPEN = ("{{", "${")  # how the integrations' matchers mark what changes from run to run


def _open(value: Any) -> bool:
    """Whether a matcher left ``value`` open: missing, or a placeholder."""
    return value is None or (isinstance(value, str) and value.startswith(OPEN))


def complete(event: dict[str, Any], run_id: str, parent_id: str, when: str) -> dict[str, Any]:
    """``event`` with what the integrations' matchers leave open filled in: run ids, time,
    producer, Airflow's default job namespace, each facet's ``_producer`` and ``_schemaURL``."""
    done: dict[str, Any] = json.loads(json.dumps(event))
    if _open(done.get("eventTime")):
        done["eventTime"] = when
    done.setdefault("producer", PRODUCER)
    done.setdefault("schemaURL", SPEC)
    done["job"].setdefault("namespace", "default")
    run = done["run"]
    if _open(run.get("runId")):
        run["runId"] = run_id
    parent = (run.get("facets") or {}).get("parent")
    if parent is not None and _open(parent["run"].get("runId")):
        parent["run"]["runId"] = parent_id
    for facets in _facet_maps(done):
        for name, facet in facets.items():
            for key, value in list(facet.items()):
                if isinstance(value, str) and value.startswith(OPEN):
                    facet[key] = "1.8.0"  # a version string the matcher left open
            facet.setdefault("_producer", PRODUCER)
            facet.setdefault("_schemaURL", f"https://openlineage.io/spec/facets/{name}.json")
    return done


def _facet_maps(event: dict[str, Any]) -> list[dict[str, Any]]:
    maps = [event["run"].get("facets") or {}, event["job"].get("facets") or {}]
    for item in [*(event.get("inputs") or []), *(event.get("outputs") or [])]:
        maps += [item.get(key) or {} for key in ("facets", "inputFacets", "outputFacets")]
    return maps


def integration_events(name: str, when: str = "2024-10-15T10:00:00+00:00") -> list[Any]:
    """The events of ``name`` (spark, airflow, dbt, flink), one new run id for all of them."""
    run_id, parent_id = str(uuid.uuid4()), str(uuid.uuid4())
    events = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return [complete(e, run_id, parent_id, when) for e in events]


def dataset(namespace: str, name: str, version: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"namespace": namespace, "name": name}
    if version is not None:
        item["facets"] = {
            "version": {
                "_producer": PRODUCER,
                "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json",
                "datasetVersion": version,
            }
        }
    return item


def run_event(
    event_type: str,
    run_id: str,
    *,
    job: str,
    namespace: str = "spark-cluster",
    when: str = "2024-10-15T10:00:00+00:00",
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A RunEvent as JSON, as the Spark integration sends one."""
    return {
        "eventType": event_type,
        "eventTime": when,
        "producer": PRODUCER,
        "schemaURL": SPEC,
        "run": {"runId": run_id},
        "job": {"namespace": namespace, "name": job},
        "inputs": inputs or [],
        "outputs": outputs or [],
    }
