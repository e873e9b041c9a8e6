"""Read OpenLineage events from other tools into the graph, one event at a time.

A RunEvent records its run, what it read and wrote, and the run it ran inside (the ``parent``
run facet: an Airflow task run's DAG run, as a ``parent`` edge). A JobEvent (a job's static
lineage, as dbt and Airflow send it) links each input to each output with a ``job`` edge; a
DatasetEvent records its dataset. Every event and each facet in it is validated against the
schemas shipped (``strata.lineage.schemas``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from strata.errors import RefSyntaxError, StrataError, UserInputError
from strata.lineage import columns, store
from strata.lineage.catalog import table_at
from strata.lineage.ids import uuid_to_run_id
from strata.lineage.schemas import event_validator, facet_problem
from strata.refs import Ref, Timestamp, Version, dataset_name, format_ref, parse_ref

if TYPE_CHECKING:
    import sqlalchemy as sa

    from strata.lineage.protocols import LineageView

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
    Lines, one JSON array, or events pretty-printed one after another."""
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
    return _json_values(text)


def _json_values(text: str) -> list[tuple[int, Any]]:
    """(line, value or parse error) of each JSON value in ``text``: one a line (JSON Lines),
    or pretty-printed over many lines, one after another; a line that does not parse is
    reported and reading goes on at the next line."""
    decoder = json.JSONDecoder()
    found: list[tuple[int, Any]] = []
    pos, line, counted = 0, 1, 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return found
        line, counted = line + text.count("\n", counted, pos), pos
        try:
            value, pos = decoder.raw_decode(text, pos)
        except ValueError as exc:
            found.append((line, ValueError(f"not JSON: {exc}")))
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1
            continue
        found.append((line, value))


def ingest(lineage: LineageView, path: Path) -> IngestResult:
    result = IngestResult()
    for number, event in read_events(path):
        try:
            take(lineage, plan(lineage, event))
        except UserInputError as exc:
            result.rejected.append((number, exc.message))
        else:
            result.ingested += 1
    return result


@dataclass(frozen=True)
class Planned:
    """An event checked and its datasets resolved to refs, not stored yet: what it would
    record (``take`` stores it). A DatasetEvent's dataset counts as written."""

    kind: str
    event: dict[str, Any]
    when: datetime
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    columns: tuple[tuple[str, str, str], ...] = ()
    """Column edges of its outputs' ``columnLineage`` facets (``strata.lineage.columns``)."""

    @property
    def run(self) -> str | None:
        """``run:ID`` of a RunEvent's run."""
        return f"run:{_run_id(self.event['run']['runId'])}" if self.kind == "RunEvent" else None

    def written(self) -> list[str]:
        """``KIND:NAME`` of every table or dataset the event says was written."""
        return sorted({ref.partition("@")[0] for ref in self.outputs})


def plan(lineage: LineageView, event: Any) -> Planned:
    """``event`` checked against the schemas and its datasets resolved; UserInputError with
    the reason when it cannot be taken."""
    kind, reason = _problem(event)
    if reason is None:
        try:
            when = _event_time(event)
            if kind == "RunEvent":
                _run_ids(event)
        except ValueError as exc:
            reason = str(exc)
    if reason is not None:
        raise UserInputError(reason)
    with lineage.db.transaction("cannot read the table catalog", write=False) as connection:
        found: dict[tuple[str, str, str | None], str] = {}

        def ref(item: Mapping[str, Any]) -> str:
            """The dataset's ref, each dataset looked up once (column lineage names them too)."""
            key = (str(item["namespace"]), str(item["name"]), _version_facet(item))
            if key not in found:
                found[key] = _dataset_ref(lineage, connection, *key, when)
            return found[key]

        if kind == "DatasetEvent":
            return Planned(kind, event, when, (), (ref(event["dataset"]),))
        inputs = tuple(ref(i) for i in event.get("inputs") or [])
        outputs = tuple(ref(o) for o in event.get("outputs") or [])
        column_edges = columns.edges(event, ref)
    return Planned(kind, event, when, inputs, outputs, tuple(column_edges))


def take(lineage: LineageView, planned: Planned) -> None:
    """Store a planned event in one transaction; storing it again changes nothing."""
    with lineage.db.transaction("cannot ingest event", write=True) as connection:
        store_planned(connection, planned)


def store_planned(connection: sa.Connection, planned: Planned) -> None:
    """Store a planned event in the caller's transaction; storing it again changes nothing."""
    if planned.kind == "RunEvent":
        _store_event(connection, planned)
    elif planned.kind == "DatasetEvent":
        store.node_ids(connection, planned.outputs)
    else:
        store.node_ids(connection, [*planned.inputs, *planned.outputs])
        edges = [(i, o, "job") for i in planned.inputs for o in planned.outputs]
        store.add_edges(connection, [*edges, *planned.columns], run_id=None, now=planned.when)


def _kind(event: dict[str, Any]) -> str | None:
    if "run" in event:
        return "RunEvent"
    if "dataset" in event:
        return "DatasetEvent"
    return "JobEvent" if "job" in event else None


def _problem(event: Any) -> tuple[str, str | None]:
    """The kind of ``event`` and why it cannot be taken (None when it can)."""
    if isinstance(event, ValueError):
        return "", str(event)
    if not isinstance(event, dict):
        return "", "not a JSON object"
    kind = _kind(event)
    if kind is None:
        return "", "not an OpenLineage event (no run, job or dataset)"
    errors = event_validator(kind).iter_errors(event)
    error = next(iter(sorted(errors, key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "event"
        return kind, f"invalid {kind} at {where}: {error.message[:200]}"
    return kind, facet_problem(event)


def _version_facet(item: Mapping[str, Any]) -> str | None:
    version = ((item.get("facets") or {}).get("version") or {}).get("datasetVersion")
    return None if version is None else str(version)


def _dataset_ref(
    lineage: LineageView,
    connection: sa.Connection,
    namespace: str,
    name: str,
    version: str | None,
    when: datetime,
) -> str:
    """A dataset of an event as a node. One of ours (the names Strata emits, ``table:x``) maps
    back to its ref; one stored where a catalog table is (Spark's ``file`` + ``/path``,
    ``s3://bucket`` + ``path``) is that table, at the version the event names (Delta) or the
    one current at the event's time; any other is ``dataset:NAMESPACE/NAME@VERSION``."""
    if name.startswith(("table:", "file:", "model:", "features:")) and version:
        return f"{name}@{version}"
    table = table_at(connection, namespace, name)
    if table is not None:
        found = _table_version(lineage, *table, version, when)
        if found is not None:
            return found
    base = f"dataset:{dataset_name(namespace, name)}"
    if not version:
        return base
    try:
        return format_ref(parse_ref(f"{base}@{version}"))
    except RefSyntaxError:  # a version with whitespace or such: kept, encoded
        return f"{base}@{quote(version, safe='')}"


def _table_version(
    lineage: LineageView, table: str, fmt: str, version: str | None, when: datetime
) -> str | None:
    """``table:NAME@N``: Delta names its version in events, Spark's Iceberg events the
    snapshot id (which the table maps to its version, while it keeps that snapshot);
    otherwise the version current at ``when``, when it can be read."""
    if fmt == "delta" and version is not None and version.isdigit():
        return f"table:{table}@{int(version)}"
    if fmt == "iceberg" and version is not None and version.lstrip("-").isdigit():
        found_version = _snapshot_version(lineage, table, int(version))
        if found_version is not None:
            return f"table:{table}@{found_version}"
    if lineage.resolver is None:
        return None
    try:
        found = lineage.resolver(Ref("table", table, Timestamp(when)))
    except StrataError:
        return None
    if found is None or not isinstance(found.selector, Version):
        return None
    return format_ref(found)


def _snapshot_version(lineage: LineageView, table: str, snapshot_id: int) -> int | None:
    if lineage.snapshot_version is None:
        return None
    try:
        return lineage.snapshot_version(table, snapshot_id)
    except StrataError:
        return None


def _event_time(event: dict[str, Any]) -> datetime:
    when = datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"eventTime {event['eventTime']!r} has no UTC offset")
    return when


def _run_ids(event: dict[str, Any]) -> tuple[str, str | None]:
    """Strata's ids of a RunEvent's run and of its parent run (None without one)."""
    run_id = _run_id(event["run"]["runId"])
    facets = event["run"].get("facets") or {}
    parent = (facets.get("parent") or {}).get("run", {}).get("runId")
    return run_id, None if parent is None else _run_id(parent, "parent run")


def _store_event(connection: sa.Connection, planned: Planned) -> None:
    """A RunEvent's run, ended when the event ends it, with its edges. Events may come in any
    order: a run first seen in its COMPLETE is recorded ended, and its START, coming later,
    moves its start back; an ended run stays ended."""
    event, when = planned.event, planned.when
    run_id, parent_id = _run_ids(event)
    facets = event["run"].get("facets") or {}
    event_type = event.get("eventType", "OTHER")
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
        if_missing=True,
    )
    if event_type == "START":
        store.start_earlier(connection, run_id, when)
    if event_type in _ENDS:
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
    edges = [(ref, node, "input") for ref in planned.inputs]
    edges += [(node, ref, "output") for ref in planned.outputs]
    if parent_id is not None and parent_id != run_id:
        edges.append((f"run:{parent_id}", node, store.PARENT))
    edges += planned.columns
    if not edges:
        store.node_ids(connection, [node])  # add_edges stores the nodes of the edges
    store.add_edges(connection, edges, run_id=run_id, now=when)


def _run_id(uuid: str, what: str = "run") -> str:
    try:
        return uuid_to_run_id(uuid)
    except ValueError:
        raise ValueError(f"{what} id {uuid!r} is not a UUID") from None
