"""Helpers for the table tests: rows of a small deliveries table, and an activity that
records what tables report. (Fixtures are in conftest.py.)"""

from __future__ import annotations

import pyarrow as pa


def deliveries(ids: range, *, weather: str = "sun", delay: float = 1.0) -> pa.Table:
    """Rows of the deliveries table: id, weather, delay_min."""
    return pa.table(
        {
            "id": pa.array(list(ids), pa.int64()),
            "weather": pa.array([weather] * len(ids), pa.string()),
            "delay_min": pa.array([delay + i for i in ids], pa.float64()),
        }
    )


def sorted_rows(data: pa.Table) -> list[dict[str, object]]:
    return sorted(data.to_pylist(), key=lambda row: str(row.get("id")))


class RecordingActivity:
    """An Activity that remembers every ref reported, in order."""

    def __init__(self, run: str | None = "01JDTESTRUN") -> None:
        self.run = run
        self.reads: list[str] = []
        self.writes: list[str] = []

    def run_id(self) -> str | None:
        return self.run

    def read(self, ref: str) -> None:
        self.reads.append(ref)

    def wrote(self, ref: str) -> None:
        self.writes.append(ref)
