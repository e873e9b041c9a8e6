"""Events stored by many threads at once share one transaction (group commit); a batch that
fails is stored again event by event, so that only the bad event fails, and every caller
returns once its own event is committed."""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

import pytest

from openlineage_events import dataset, run_event
from strata import Workspace
from strata.errors import LineageError
from strata.lineage.ingest import Planned

THREADS = 8


def _planned(ws: Workspace, count: int) -> list[Planned]:
    return [
        ws.lineage.check_event(
            run_event(
                "COMPLETE",
                str(uuid.uuid4()),
                job=f"job{i}",
                inputs=[dataset("s3://raw", f"in{i}")],
                outputs=[dataset("s3://lake", f"out{i}", "1")],
            )
        )
        for i in range(count)
    ]


def _record_together(ws: Workspace, planned: list[Planned]) -> list[BaseException | None]:
    """Record each event in its own thread, all queued before the first is written; what
    each thread's call raised (None when it returned)."""
    writer = ws.lineage._events
    outcomes: list[BaseException | None] = [None] * len(planned)

    def record(index: int) -> None:
        try:
            ws.lineage.record_event(planned[index])
        except BaseException as exc:  # handed to the test
            outcomes[index] = exc

    with writer._writing:  # hold the writer so that every thread queues its event first
        threads = [threading.Thread(target=record, args=(i,)) for i in range(len(planned))]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(writer._queue) < len(planned) and time.monotonic() < deadline:
            time.sleep(0.005)
    for thread in threads:
        thread.join(30)
    return outcomes


def _count_write_transactions(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    db, opened = ws.lineage.db, []
    original = db.transaction

    def counting(action: str, *, write: bool) -> AbstractContextManager[Any]:
        if write:
            opened.append(action)
        return original(action, write=write)

    monkeypatch.setattr(db, "transaction", counting)
    return opened


def test_events_queued_together_are_committed_in_one_transaction(
    lws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = _planned(lws, THREADS)
    opened = _count_write_transactions(lws, monkeypatch)
    assert _record_together(lws, planned) == [None] * THREADS
    assert len(opened) == 1
    runs = lws.lineage.runs()
    assert sorted(r.job for r in runs) == sorted(f"job{i}" for i in range(THREADS))
    assert all(r.status == "completed" and len(r.outputs) == 1 for r in runs)


def test_a_bad_event_in_a_batch_fails_alone_and_leaves_nothing(
    lws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = _planned(lws, THREADS)
    bad = 3
    planned[bad] = replace(planned[bad], event={**planned[bad].event, "job": {}})  # no name
    opened = _count_write_transactions(lws, monkeypatch)
    outcomes = _record_together(lws, planned)
    assert isinstance(outcomes[bad], KeyError)
    assert [o for i, o in enumerate(outcomes) if i != bad] == [None] * (THREADS - 1)
    assert len(opened) == 1 + THREADS  # the batch, rolled back; then each event alone
    jobs = sorted(r.job for r in lws.lineage.runs())
    assert jobs == sorted(f"job{i}" for i in range(THREADS) if i != bad)
    with pytest.raises(LineageError, match="nothing is recorded"):  # not its dataset either
        lws.lineage.graph(f"dataset:s3://lake/out{bad}@1")


def test_the_same_events_again_change_nothing(lws: Workspace) -> None:
    planned = _planned(lws, THREADS)
    assert _record_together(lws, planned) == [None] * THREADS
    before = [(r.id, r.inputs, r.outputs) for r in lws.lineage.runs()]
    assert _record_together(lws, planned + planned) == [None] * 2 * THREADS
    assert [(r.id, r.inputs, r.outputs) for r in lws.lineage.runs()] == before
