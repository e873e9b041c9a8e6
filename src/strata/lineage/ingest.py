"""Read OpenLineage RunEvents from other tools into the graph, one event at a time."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.errors import UserInputError
from strata.lineage import store
from strata.lineage.ids import uuid_to_run_id
from strata.lineage.openlineage import run_event_validator

if TYPE_CHECKING:
    import sqlalchemy as sa

    from strata.lineage.service import Lineage

_ENDS = {"COMPLETE": "completed", "FAIL": "failed", "ABORT": "failed"}
MAX_NESTING = 200
"""Deeper JSON is refused before it is parsed: the parser recurses once per level."""
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nesting(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON ``text`` (strings skipped)."""
    steps = [_BRACKETS.get(ord(c), 0) for c in _STRING.sub("", text) if c in "[]{}"]
    return max(accumulate(steps), default=0)


@dataclass
class IngestResult:
    ingested: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ingested": self.ingested,
            "rejected": [{"event": n, "reason": r} for n, r in self.rejected],
        }


def read_events(path: Path) -> list[tuple[int, Any]]:
    """(line or position, parsed JSON or the parse error) of every event in ``path``: JSON
    Lines, or one JSON array."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read {path}: {exc}", hint="name a JSON Lines file") from None
    depth = nesting(text)
    if depth > MAX_NESTING:
        raise UserInputError(
            f"cannot read {path}: JSON nested {depth} levels deep (at most {MAX_NESTING})",
            hint="check that it holds OpenLineage events",
        )
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except ValueError as exc:
            raise UserInputError(f"{path} is not valid JSON: {exc}") from None
        return list(enumerate(items, 1))
    found: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                found.append((number, json.loads(line)))
            except ValueError as exc:
                found.append((number, ValueError(f"not JSON: {exc}")))
    return found


def ingest(lineage: Lineage, path: Path) -> IngestResult:
    result = IngestResult()
    validator = run_event_validator()
    for number, event in read_events(path):
        reason = _problem(validator, event)
        if reason is None:
            try:
                with lineage.db.transaction("cannot ingest event", write=True) as connection:
                    _store_event(lineage, connection, event)
            except ValueError as exc:
                reason = str(exc)
        if reason is None:
            result.ingested += 1
        else:
            result.rejected.append((number, reason))
    return result


def _problem(validator: Any, event: Any) -> str | None:
    if isinstance(event, ValueError):
        return str(event)
    if not isinstance(event, dict):
        return "not a JSON object"
    if "run" not in event or "job" not in event:
        return "not an OpenLineage RunEvent (no run or job): dataset and job events are not taken"
    error = next(iter(sorted(validator.iter_errors(event), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "event"
        return f"invalid at {where}: {error.message[:200]}"
    return None


def _dataset_ref(item: dict[str, Any]) -> str:
    """A foreign dataset as a node: ``dataset:NAMESPACE/NAME@VERSION``; one of ours (same
    names Strata emits, ``table:x``) maps back to its ref."""
    name, namespace = str(item["name"]), str(item["namespace"])
    version = ((item.get("facets") or {}).get("version") or {}).get("datasetVersion")
    if name.startswith(("table:", "file:", "model:", "features:")) and version:
        return f"{name}@{version}"
    base = f"dataset:{namespace}/{name}"
    return f"{base}@{version}" if version else base


def _store_event(lineage: Lineage, connection: sa.Connection, event: dict[str, Any]) -> None:
    try:
        run_id = uuid_to_run_id(event["run"]["runId"])
    except ValueError:
        raise ValueError(f"run id {event['run']['runId']!r} is not a UUID") from None
    when = datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"eventTime {event['eventTime']!r} has no UTC offset")
    event_type = event.get("eventType", "OTHER")
    existing = store.get_run(connection, run_id, with_edges=False)
    if existing is None:
        store.insert_run(
            connection,
            {
                "id": run_id,
                "job": event["job"]["name"],
                "namespace": event["job"]["namespace"],
                "status": "running",
                "started_at": when,
                "command": None,
                "params": {},
                "metrics": {},
                "environment": {"source": "openlineage", "producer": event.get("producer")},
                "git_commit": None,
                "git_dirty": None,
                "host": "",
                "pid": None,
            },
        )
    if event_type in _ENDS:
        facets = event["run"].get("facets") or {}
        error = (facets.get("errorMessage") or {}).get("message")
        store.finish_run(
            connection,
            run_id,
            status=_ENDS[event_type],  # type: ignore[arg-type]
            ended_at=when,
            exit_code=None,
            metrics={},
            params=None,
            error=error,
        )
    node = f"run:{run_id}"
    edges = [(_dataset_ref(i), node, "input") for i in event.get("inputs") or []]
    edges += [(node, _dataset_ref(o), "output") for o in event.get("outputs") or []]
    store.node_ids(connection, [node])
    store.add_edges(connection, edges, run_id=run_id, now=when)
