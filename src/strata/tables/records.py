"""The values tables return: catalog rows, pins, commits, and what a write or vacuum did."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Format = Literal["delta", "iceberg"]
FORMATS: tuple[Format, ...] = ("delta", "iceberg")
WriteMode = Literal["append", "overwrite"]

# Keys Strata adds to a commit's custom metadata (Delta commitInfo, Iceberg snapshot summary).
RUN_KEY = "strata.run"
MESSAGE_KEY = "strata.message"
USER_KEY = "strata.user"


@dataclass(frozen=True, slots=True)
class TableInfo:
    """One row of the catalog."""

    name: str
    format: Format
    location: str
    origin: Literal["created", "registered"]
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "format": self.format,
            "location": self.location,
            "origin": self.origin,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Pin:
    """A version that maintenance must keep readable, and who needs it."""

    table: str
    version: int
    pinned_by: str
    pinned_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "version": self.version,
            "pinned_by": self.pinned_by,
            "pinned_at": self.pinned_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Commit:
    """One version in a table's history."""

    version: int
    timestamp: datetime
    operation: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    message: str | None = None
    user: str | None = None
    run_id: str | None = None
    row_count: int | None = None
    input: str | None = None  # MODE:HASH of the file a write read (see tables.retry)
    rows_written: int | None = None  # added or changed, per the format's operation metrics

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "timestamp": self.timestamp.isoformat(),
            "operation": self.operation,
            "parameters": dict(self.parameters),
            "message": self.message,
            "user": self.user,
            "run": self.run_id,
            "row_count": self.row_count,
            "input": self.input,
        }


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a commit did: the version it made and format-reported metrics. ``committed`` is
    False when there was nothing to do (``version`` is then the unchanged latest one)."""

    table: str
    version: int
    operation: str
    metrics: Mapping[str, Any] = field(default_factory=dict)
    committed: bool = True

    @property
    def ref(self) -> str:
        return f"table:{self.table}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "version": self.version,
            "operation": self.operation,
            "metrics": dict(self.metrics),
            "committed": self.committed,
        }


@dataclass(frozen=True, slots=True)
class VacuumResult:
    table: str
    dry_run: bool
    removed: tuple[str, ...]
    kept_for_pins: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "dry_run": self.dry_run,
            "files": list(self.removed),
            "pinned_versions": list(self.kept_for_pins),
        }
