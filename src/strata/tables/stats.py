"""Per-version table statistics, read from a format's metadata without scanning data.

Stored in the catalog as JSON (``to_dict``/``from_dict`` use the same field names), so that
lineage and drift checks can compare versions later without opening the table.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    nullable: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "nullable": self.nullable}


@dataclass(frozen=True, slots=True)
class ColumnStats:
    """Null count and min/max of one column; None where some file carries no statistic."""

    null_count: int | None
    min: Any
    max: Any

    def to_dict(self) -> dict[str, Any]:
        return {"null_count": self.null_count, "min": self.min, "max": self.max}


@dataclass(frozen=True, slots=True)
class TableStats:
    table: str
    version: int
    row_count: int
    file_count: int
    size_bytes: int
    schema: tuple[Field, ...]
    columns: dict[str, ColumnStats] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "version": self.version,
            "row_count": self.row_count,
            "file_count": self.file_count,
            "size_bytes": self.size_bytes,
            "schema": [f.to_dict() for f in self.schema],
            "columns": {name: c.to_dict() for name, c in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableStats:
        return cls(
            table=data["table"],
            version=int(data["version"]),
            row_count=int(data["row_count"]),
            file_count=int(data["file_count"]),
            size_bytes=int(data["size_bytes"]),
            schema=tuple(Field(**f) for f in data["schema"]),
            columns={name: ColumnStats(**c) for name, c in data["columns"].items()},
        )


def json_value(value: object) -> object:
    """A statistic as a JSON value: times as ISO text, bytes as base64, decimals as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)
