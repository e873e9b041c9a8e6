"""Iceberg's values in Strata's terms: partition transforms written as text (``day``,
``bucket[16]``), and a version's stats from the per-file metrics in its manifests."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from strata.errors import UserInputError
from strata.tables.stats import ColumnStats, Field, TableStats, json_value

if TYPE_CHECKING:
    from pyiceberg.transforms import Transform

_BUCKET = re.compile(r"(bucket|truncate)\[(\d+)\]")


def transform_of(text: str) -> Transform[Any, Any]:
    from pyiceberg.transforms import (
        BucketTransform,
        DayTransform,
        HourTransform,
        IdentityTransform,
        MonthTransform,
        TruncateTransform,
        YearTransform,
    )

    simple: dict[str, Callable[[], Transform[Any, Any]]] = {
        "identity": IdentityTransform,
        "year": YearTransform,
        "month": MonthTransform,
        "day": DayTransform,
        "hour": HourTransform,
    }
    if text in simple:
        return simple[text]()
    match = _BUCKET.fullmatch(text)
    if match and match[1] == "bucket":
        return BucketTransform(int(match[2]))
    if match:
        return TruncateTransform(int(match[2]))
    raise UserInputError(
        f"unknown partition transform {text!r}",
        hint="use identity, year, month, day, hour, bucket[N] or truncate[N]",
    )


def label_of(transform: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", transform.lower())


def stats_from_manifests(
    name: str, version: int, schema: pa.Schema, files: pa.Table | None
) -> TableStats:
    """Aggregate the per-file metrics Iceberg keeps in its manifests (``files`` as
    ``inspect.files`` lists them; None for a version without files: 0 rows)."""
    if files is None:
        files = pa.table({})
    data = files.filter(pc.equal(files["content"], 0)) if files.num_rows else files
    columns: dict[str, ColumnStats] = {}
    metrics = data["readable_metrics"].to_pylist() if data.num_rows else []
    for field in schema:
        per_file = [m.get(field.name) if m else None for m in metrics]
        known = [m for m in per_file if m is not None]
        if len(known) != len(per_file) or not known:
            columns[field.name] = ColumnStats(None if per_file else 0, None, None)
            continue
        nulls = [m["null_value_count"] for m in known]
        lows = [m["lower_bound"] for m in known]
        highs = [m["upper_bound"] for m in known]
        columns[field.name] = ColumnStats(
            None if None in nulls else sum(nulls),
            None if None in lows else json_value(min(lows)),
            None if None in highs else json_value(max(highs)),
        )
    return TableStats(
        table=name,
        version=version,
        row_count=int(pc.sum(data["record_count"]).as_py() or 0) if data.num_rows else 0,
        file_count=data.num_rows,
        size_bytes=int(pc.sum(data["file_size_in_bytes"]).as_py() or 0) if data.num_rows else 0,
        schema=tuple(Field(f.name, str(f.type), f.nullable) for f in schema),
        columns=columns,
    )
