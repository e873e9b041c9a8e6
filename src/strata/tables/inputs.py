"""Turn what a user hands in — a file path or a frame — into one pyarrow Table.

Files: Parquet (``.parquet``, ``.pq``), CSV (``.csv``), JSON Lines (``.jsonl``, ``.ndjson``,
``.json``). Frames: pyarrow Tables and record batches, pandas and polars DataFrames, and
anything that exports the Arrow C stream interface.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from strata.errors import UserInputError
from strata.tables.base import first_line

if TYPE_CHECKING:
    import pyarrow as pa

SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}


def read_input(data: object) -> pa.Table:
    """``data`` as a pyarrow Table; a bad file or type raises UserInputError."""
    import pyarrow as pa

    if isinstance(data, str | os.PathLike):
        return read_file(Path(data))
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


def read_file(path: Path) -> pa.Table:
    import pyarrow as pa

    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise UserInputError(
            f"cannot tell the format of {path} from its suffix",
            hint="use .parquet, .csv or .jsonl",
        )
    if not path.is_file():
        raise UserInputError(f"{path} does not exist", hint="check the path")
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if kind == "csv":
            import pyarrow.csv as pcsv

            return pcsv.read_csv(path)
        import pyarrow.json as pjson

        return pjson.read_json(path)
    except (pa.ArrowException, OSError) as exc:
        raise UserInputError(
            f"cannot read {path} as {kind}: {first_line(exc)}", hint="check the file's contents"
        ) from exc


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
