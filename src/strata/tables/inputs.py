"""Turn what a user hands in — a file path or a frame — into one pyarrow Table.

Files: Parquet (``.parquet``, ``.pq``), CSV (``.csv``), JSON Lines (``.jsonl``, ``.ndjson``,
``.json``), Arrow IPC streams (``.arrows``). Frames: pyarrow Tables and record batches,
pandas and polars DataFrames, and anything that exports the Arrow C stream interface.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from strata.errors import UserInputError
from strata.tables.error_text import first_line

if TYPE_CHECKING:
    import pyarrow as pa

SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
    ".arrows": "arrow",
}


def read_input(data: object, schema: Callable[[], pa.Schema] | None = None) -> pa.Table:
    """``data`` as a pyarrow Table; a bad file or type raises UserInputError. CSV and JSON
    files are read with ``schema()`` (the table's) when given: their values are parsed as the
    table's types, not guessed."""
    import pyarrow as pa

    if isinstance(data, str | os.PathLike):
        return read_file(Path(data), schema)
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(data, preserve_index=False)
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise UserInputError(
        f"cannot read rows from a {type(data).__name__}",
        hint="pass a Parquet, CSV or JSON Lines path, or a pyarrow, pandas or polars frame",
    )


def read_file(path: Path, schema: Callable[[], pa.Schema] | None = None) -> pa.Table:
    import pyarrow as pa

    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise UserInputError(
            f"cannot tell the format of {path} from its suffix",
            hint="use .parquet, .csv, .jsonl or .arrows",
        )
    if not path.is_file():
        raise UserInputError(f"{path} does not exist", hint="check the path")
    target = schema() if schema is not None and kind in ("csv", "json") else None
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if kind == "arrow":
            with pa.OSFile(str(path)) as source, pa.ipc.open_stream(source) as reader:
                return reader.read_all()
        if kind == "csv":
            import pyarrow.csv as pcsv

            # The table's columns are read as text and parsed below, where a bad value can
            # be named by column and row (Arrow's CSV reader names neither).
            text = {f.name: pa.string() for f in target} if target is not None else None
            rows = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(column_types=text))
        else:
            import pyarrow.json as pjson

            rows = pjson.read_json(path)
    except (pa.ArrowException, OSError) as exc:
        raise UserInputError(
            f"cannot read {path} as {kind}: {first_line(exc)}", hint="check the file's contents"
        ) from exc
    return rows if target is None else as_types(path, rows, target)


def as_types(path: Path, rows: pa.Table, schema: pa.Schema) -> pa.Table:
    """Parse or cast each column of ``rows`` that ``schema`` has to that column's type."""
    for field in schema:
        if field.name in rows.column_names and rows[field.name].type != field.type:
            column = rows.column_names.index(field.name)
            parsed = _parse_column(path, field, rows[field.name].combine_chunks())
            rows = rows.set_column(column, field.name, parsed)
    return rows


def _parse_column(path: Path, field: pa.Field, values: pa.Array) -> pa.Array:
    import pyarrow as pa

    try:
        return _parse(values, field.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        error = exc
    for start in range(0, len(values), _PROBE):
        part = values.slice(start, _PROBE)
        try:
            _parse(part, field.type)
            continue
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        for offset in range(len(part)):
            try:
                _parse(part.slice(offset, 1), field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                bad = part[offset].as_py()
                raise UserInputError(
                    f"cannot read {path}: row {start + offset + 1} of column {field.name!r} "
                    f"has {bad!r}, which is not a {field.type}",
                    hint=f"fix that value (column {field.name!r} is {field.type} in the table)",
                ) from error
    raise UserInputError(
        f"cannot read {path}: column {field.name!r} is not a {field.type} ({first_line(error)})",
        hint="check the file's contents",
    ) from error


_PROBE = 4096


def _parse(values: pa.Array, target: pa.DataType) -> pa.Array:
    """Text as ``target`` (CSV's null markers as nulls; a timestamp without a zone is UTC),
    or a JSON-inferred type cast to ``target`` where no value is lost."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_string(values.type) or pa.types.is_string(target):
        return values.cast(target)
    text = pc.if_else(pc.is_in(values, value_set=pa.array(_NULL_TEXT)), None, values)
    if pa.types.is_timestamp(target) and target.tz is not None:
        zoned = pc.match_substring_regex(text, r"(Z|[+-]\d\d(:?\d\d)?)$")
        naive = pc.if_else(zoned, None, text).cast(pa.timestamp(target.unit))
        local = pc.assume_timezone(naive, target.tz)
        return pc.if_else(zoned, pc.if_else(zoned, text, None).cast(target), local)
    return text.cast(target)


# What Arrow's CSV reader reads as null in a column that is not text.
_NULL_TEXT = ["", "#N/A", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null", "-NaN", "-nan"]

_TYPE_NAMES = {
    "bool": "bool_",
    "boolean": "bool_",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int": "int64",
    "int64": "int64",
    "long": "int64",
    "float": "float32",
    "float32": "float32",
    "double": "float64",
    "float64": "float64",
    "string": "string",
    "str": "string",
    "binary": "binary",
    "date": "date32",
}
_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")


def parse_schema(text: str) -> pa.Schema:
    """``id:int64,name:string,at:timestamp`` → a pyarrow schema (timestamps in µs, UTC)."""
    import pyarrow as pa

    fields = []
    for part in _split_fields(text):
        name, colon, type_text = part.partition(":")
        name, type_text = name.strip(), type_text.strip().lower()
        if not colon or not name or not type_text:
            raise UserInputError(
                f"bad schema field {part!r}", hint="write --schema 'id:int64,name:string'"
            )
        fields.append(pa.field(name, _arrow_type(type_text)))
    if not fields:
        raise UserInputError("empty schema", hint="write --schema 'id:int64,name:string'")
    return pa.schema(fields)


def _split_fields(text: str) -> list[str]:
    """Split at commas that are not inside a ``decimal(p, s)``."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def _arrow_type(text: str) -> pa.DataType:
    import pyarrow as pa

    if text in _TYPE_NAMES:
        factory = getattr(pa, _TYPE_NAMES[text])
        data_type: pa.DataType = factory()
        return data_type
    if text in ("timestamp", "datetime"):
        return pa.timestamp("us", tz="UTC")
    match = _DECIMAL.fullmatch(text)
    if match:
        return pa.decimal128(int(match[1]), int(match[2]))
    known = ", ".join(sorted({*_TYPE_NAMES, "timestamp", "decimal(P,S)"}))
    raise UserInputError(f"unknown column type {text!r}", hint=f"use one of {known}")
