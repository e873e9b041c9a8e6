"""Schema rules shared by the formats: what an append or merge may change, and SQL quoting."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from strata.errors import TableError

if TYPE_CHECKING:
    import pyarrow as pa

_SCHEMA_HINT = (
    "pass --merge-schema to add new columns, or `strata table overwrite --overwrite-schema` "
    "to replace the schema"
)


_PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def quote(column: str) -> str:
    """A column name as a SQL identifier: bare when SQL would read it unchanged (delta-rs
    recognises ``target.k = source.k`` merge predicates for file pruning only then), else
    double-quoted."""
    if _PLAIN_IDENTIFIER.fullmatch(column):
        return column
    return '"' + column.replace('"', '""') + '"'


def check_compatible(
    name: str, table_schema: pa.Schema, data_schema: pa.Schema, merge_schema: bool
) -> None:
    """Refuse data whose columns the table cannot take: a type that does not cast safely
    (always), a column the table lacks (unless ``merge_schema``), or a non-nullable column
    the data lacks. A missing nullable column is filled with nulls (``conform``), as Spark
    does."""
    import pyarrow as pa

    for field in data_schema:
        if field.name not in table_schema.names:
            if not merge_schema:
                raise TableError(
                    f"table {name} has no column {field.name!r}, which the data has",
                    hint=_SCHEMA_HINT,
                )
            continue
        expected = table_schema.field(field.name).type
        if field.type == expected or pa.types.is_null(field.type):
            continue
        if not _casts_safely(field.type, expected):
            raise TableError(
                f"column {field.name!r} of table {name} is {expected}, the data has "
                f"{field.type}: an incompatible type change",
                hint="cast the data, or `strata table overwrite --overwrite-schema`",
            )
    for field in table_schema:
        if field.name not in data_schema.names and not field.nullable:
            raise TableError(
                f"column {field.name!r} of table {name} ({field.type}, not nullable) is "
                "missing from the data",
                hint=f"add column {field.name!r} to the data",
            )


def conform(name: str, rows: pa.Table, table_schema: pa.Schema) -> pa.Table:
    """The data in the table's column order and types (checked by ``check_compatible``),
    a missing nullable column as nulls, and columns the table lacks after the table's (for a
    schema merge). Nulls in a non-nullable column are refused, naming the first row."""
    import pyarrow as pa

    columns, fields = [], []
    for field in table_schema:
        if field.name in rows.column_names:
            column = rows[field.name]
            if column.type != field.type:
                # Timestamp units and zones are normalised, as the format writers do.
                column = column.cast(field.type, safe=not pa.types.is_timestamp(field.type))
            if not field.nullable and column.null_count:
                first = column.to_pylist().index(None)
                raise TableError(
                    f"column {field.name!r} of table {name} is not nullable, the data has "
                    f"{column.null_count} null(s) (the first in row {first + 1})",
                    hint=f"give every row a value for {field.name!r}",
                )
        else:
            column = pa.nulls(rows.num_rows, field.type)
        columns.append(column)
        fields.append(field)
    for field in rows.schema:
        if field.name not in table_schema.names:
            columns.append(rows[field.name])
            fields.append(field)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


_WIDENING = {
    "int8": ("int16", "int32", "int64", "float", "double"),
    "int16": ("int32", "int64", "float", "double"),
    "int32": ("int64", "double"),
    "int64": ("double",),
    "uint8": ("int16", "int32", "int64"),
    "uint16": ("int32", "int64"),
    "uint32": ("int64",),
    "float": ("double",),
    "string": ("large_string", "string_view"),
    "large_string": ("string", "string_view"),
    "string_view": ("string", "large_string"),
    "date32[day]": ("timestamp[us]",),
}


def _casts_safely(source: pa.DataType, target: pa.DataType) -> bool:
    import pyarrow as pa

    if pa.types.is_timestamp(source) and pa.types.is_timestamp(target):
        return True  # units and zones are normalised by the writer
    return str(target) in _WIDENING.get(str(source), ())
