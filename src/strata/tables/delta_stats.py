"""Table stats from Delta's per-file statistics (the add actions in the log): no data scan."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from strata.tables.stats import ColumnStats, Field, TableStats, json_value


def stats_from_actions(name: str, version: int, schema: pa.Schema, actions: pa.Table) -> TableStats:
    """Aggregate Delta's per-file statistics (add actions in the log) into table stats."""
    records = actions["num_records"]
    columns: dict[str, ColumnStats] = {}
    for field in schema:
        if f"partition.{field.name}" in actions.column_names:
            columns[field.name] = _partition_stats(actions[f"partition.{field.name}"], records)
        else:
            columns[field.name] = _file_stats(actions, field.name)
    return TableStats(
        table=name,
        version=version,
        row_count=int(pc.sum(records).as_py() or 0),
        file_count=actions.num_rows,
        size_bytes=int(pc.sum(actions["size_bytes"]).as_py() or 0),
        schema=tuple(Field(f.name, str(f.type), f.nullable) for f in schema),
        columns=columns,
    )


def _aggregate(values: pa.ChunkedArray, how: str) -> object:
    """min or max over files; unknown (None) when any file lacks the statistic."""
    if values.null_count:
        return None
    if len(values) == 0:
        return None
    return json_value(getattr(pc, how)(values).as_py())


def _file_stats(actions: pa.Table, column: str) -> ColumnStats:
    names = actions.column_names
    nulls = actions[f"null_count.{column}"] if f"null_count.{column}" in names else None
    null_count = None if nulls is None or nulls.null_count else int(pc.sum(nulls).as_py() or 0)
    low = _aggregate(actions[f"min.{column}"], "min") if f"min.{column}" in names else None
    high = _aggregate(actions[f"max.{column}"], "max") if f"max.{column}" in names else None
    return ColumnStats(null_count, low, high)


def _partition_stats(values: pa.ChunkedArray, records: pa.ChunkedArray) -> ColumnStats:
    null_rows = pc.sum(pc.if_else(pc.is_null(values), records, 0)).as_py() or 0
    present = pc.drop_null(values)
    if len(present) == 0:
        return ColumnStats(int(null_rows), None, None)
    bounds = pc.min_max(present)
    return ColumnStats(
        int(null_rows), json_value(bounds["min"].as_py()), json_value(bounds["max"].as_py())
    )
