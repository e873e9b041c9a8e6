"""A Delta table's history entries read back: Strata's commit metadata and rows written."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from strata.tables.records import MESSAGE_KEY, RUN_KEY, USER_KEY, Commit
from strata.tables.retry import INPUT_KEY


def commit_of(entry: dict[str, Any]) -> Commit:
    """One entry of delta-rs's ``history()`` as a commit, with what Strata wrote into it."""
    params = entry.get("operationParameters") or {}
    return Commit(
        version=int(entry["version"]),
        timestamp=datetime.fromtimestamp(int(entry["timestamp"]) / 1000, UTC),
        operation=str(entry.get("operation", "")),
        parameters={str(k): v for k, v in params.items()},
        message=entry.get(MESSAGE_KEY),
        user=entry.get(USER_KEY) or entry.get("userName"),
        run_id=entry.get(RUN_KEY),
        input=entry.get(INPUT_KEY),
        rows_written=_rows_written(entry.get("operationMetrics") or {}),
    )


_ROWS_WRITTEN = (
    "num_added_rows",  # WRITE
    "num_updated_rows",  # UPDATE
    "num_target_rows_inserted",  # MERGE
    "num_target_rows_updated",
)


def _rows_written(metrics: Mapping[str, Any]) -> int | None:
    """Rows a commit wrote, from delta-rs's operation metrics: added, updated, or inserted
    and updated by a merge (copied rows are rewritten, not written by it); 0 for a commit
    that wrote none (DELETE, OPTIMIZE), None when its metrics say nothing of rows."""
    found = [int(metrics[k]) for k in _ROWS_WRITTEN if isinstance(metrics.get(k), int)]
    if found:
        return sum(found)
    return 0 if any(k.startswith("num_") for k in metrics) else None
