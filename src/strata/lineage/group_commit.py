"""Group commit of OpenLineage events: events that arrive together (a server's request
threads) are stored in one write transaction, so they share its commit and its sync to disk.

Each caller returns once the transaction holding its event has committed, so nothing is
acknowledged before it is durable. A batch is all or nothing: when it fails, each of its
events is stored again in a transaction of its own, so one bad event fails alone. Storing an
event twice changes nothing (``ingest.store_planned``), which makes that retry safe.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from strata.lineage.ingest import store_planned, take

if TYPE_CHECKING:
    from strata.lineage.ingest import Planned
    from strata.lineage.protocols import LineageView


@dataclass
class _Waiting:
    planned: Planned
    done: bool = False
    error: Exception | None = None


class EventWriter:
    """Stores planned events, those queued at the same time in one transaction."""

    def __init__(self, lineage: LineageView) -> None:
        self.lineage = lineage
        self._queue: list[_Waiting] = []
        self._queue_lock = threading.Lock()
        self._writing = threading.Lock()  # one batch at a time: the writer drains the queue

    def record(self, planned: Planned) -> None:
        """Store ``planned``; returns once it is committed, raises why when it cannot be."""
        mine = _Waiting(planned)
        with self._queue_lock:
            self._queue.append(mine)
        with self._writing:
            if not mine.done:  # a writer before us did not take it: write what is queued
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._write(batch)
        if mine.error is not None:
            raise mine.error

    def _write(self, batch: list[_Waiting]) -> None:
        try:
            with self.lineage.db.transaction("cannot ingest events", write=True) as connection:
                for waiting in batch:
                    store_planned(connection, waiting.planned)
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
            for waiting in batch:  # one at a time, so that only a bad event fails
                try:
                    take(self.lineage, waiting.planned)
                except Exception as alone:  # each caller gets its own event's error
                    waiting.error = alone
        finally:
            for waiting in batch:
                waiting.done = True
