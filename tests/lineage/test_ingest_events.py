"""One OpenLineage event at a time, as the server takes them: checked and resolved first
(``check_event``), stored after (``record_event``), in any order, and stored once."""

from __future__ import annotations

import uuid

import pytest

from openlineage_events import dataset, run_event
from strata import Workspace
from strata.errors import UserInputError
from strata.lineage.ids import uuid_to_run_id


def test_checking_names_what_the_event_writes_and_stores_nothing(sqlite_ws: Workspace) -> None:
    lineage = sqlite_ws.lineage
    event = run_event(
        "COMPLETE", str(uuid.uuid4()), job="j",
        inputs=[dataset("s3://raw", "events")],
        outputs=[dataset("s3://lake", "gold/x", "3"), dataset("s3://lake", "gold/y")],
    )  # fmt: skip
    planned = lineage.check_event(event)
    assert planned.written() == ["dataset:s3://lake/gold/x", "dataset:s3://lake/gold/y"]
    assert planned.outputs == ("dataset:s3://lake/gold/x@3", "dataset:s3://lake/gold/y")
    assert lineage.runs() == []
    lineage.record_event(planned)
    [run] = lineage.runs()
    assert run.ref == planned.run and run.inputs == ("dataset:s3://raw/events",)


def test_a_dataset_event_writes_its_dataset(sqlite_ws: Workspace) -> None:
    event = {
        "eventTime": "2024-10-15T10:00:00+00:00",
        "producer": "https://example.com/p",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {"namespace": "bigquery", "name": "p.d.t"},
    }
    planned = sqlite_ws.lineage.check_event(event)
    assert (planned.kind, planned.written(), planned.run) == (
        "DatasetEvent",
        ["dataset:bigquery/p.d.t"],
        None,
    )


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"run": {"runId": "x"}}, "invalid RunEvent"),
        ([], "not a JSON object"),
        (run_event("START", "not-a-uuid", job="j"), "run id 'not-a-uuid' is not a UUID"),
        ({**run_event("START", str(uuid.uuid4()), job="j"), "eventTime": "2024-10-15T10:00:00"},
         "has no UTC offset"),
    ],
)  # fmt: skip
def test_an_event_that_cannot_be_taken_says_why(
    sqlite_ws: Workspace, event: object, reason: str
) -> None:
    with pytest.raises(UserInputError, match=reason):
        sqlite_ws.lineage.check_event(event)


def test_events_out_of_order_and_twice(lws: Workspace) -> None:
    """COMPLETE before START: the run is ended at once and its START moves its start back;
    every event again changes nothing (SQLite and PostgreSQL)."""
    lineage = lws.lineage
    run_id = str(uuid.uuid4())
    out = [dataset("s3://lake", "gold/x", "1")]
    end = run_event("COMPLETE", run_id, job="j", when="2024-10-15T11:00:00+00:00", outputs=out)
    start = run_event("START", run_id, job="j", when="2024-10-15T10:00:00+00:00")
    for event in (end, start, end, start):
        lineage.record_event(lineage.check_event(event))
    run = lineage.run(f"run:{uuid_to_run_id(run_id)}")
    assert run.status == "completed"
    assert (run.started_at.hour, run.ended_at and run.ended_at.hour) == (10, 11)
    assert run.outputs == ("dataset:s3://lake/gold/x@1",)
    assert len(lineage.graph(run.ref).edges) == 1


def test_a_deleted_column_lineage_facet_is_taken_and_adds_no_columns(
    sqlite_ws: Workspace,
) -> None:
    out = dataset("s3://lake", "gold", "1")
    out["facets"]["columnLineage"] = {
        "_producer": "p",
        "_schemaURL": "s",
        "_deleted": True,
        "fields": [1],
    }
    planned = sqlite_ws.lineage.check_event(
        run_event("COMPLETE", str(uuid.uuid4()), job="j", outputs=[out])
    )
    assert planned.columns == ()
    sqlite_ws.lineage.record_event(planned)
