"""``--set COL=VALUE`` for a format without an SQL engine (Iceberg): the value is a literal
(``0``, ``2.5``, ``'snow'``, ``'2024-10-01'``, ``true``, ``null``) or another column, cast
to the column's type."""

from __future__ import annotations

import re

import pyarrow as pa

from strata.errors import UnsupportedByFormatError, UserInputError

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_STRING = re.compile(r"'((?:[^']|'')*)'")
_COLUMN = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_]*)')


def assign(table: str, rows: pa.Table, set_: dict[str, str]) -> pa.Table:
    """``rows`` with each column of ``set_`` replaced by its value."""
    unknown = [c for c in set_ if c not in rows.column_names]
    if unknown:
        raise UserInputError(
            f"table {table} has no column {', '.join(unknown)}",
            hint=f"its columns: {', '.join(rows.column_names)}",
        )
    for column, text in set_.items():
        index = rows.column_names.index(column)
        target = rows.schema.field(index).type
        values = _values(table, rows, text.strip())
        try:
            cast = values.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise UserInputError(
                f"cannot set column {column} of table {table} to {text}: not a {target} "
                f"({str(exc).splitlines()[0]})",
                hint=f"give a value of type {target}",
            ) from exc
        rows = rows.set_column(index, rows.schema.field(index), cast)
    return rows


def _values(table: str, rows: pa.Table, text: str) -> pa.ChunkedArray:
    n = rows.num_rows
    lowered = text.lower()
    if lowered == "null":
        return pa.chunked_array([pa.nulls(n)])
    if lowered in ("true", "false"):
        return pa.chunked_array([pa.array([lowered == "true"] * n)])
    if _NUMBER.fullmatch(text):
        number: int | float = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        return pa.chunked_array([pa.array([number] * n)])
    if match := _STRING.fullmatch(text):
        return pa.chunked_array([pa.array([match[1].replace("''", "'")] * n, pa.string())])
    if (match := _COLUMN.fullmatch(text)) and (name := match[1] or match[2]) in rows.column_names:
        return rows[name]
    raise UnsupportedByFormatError(
        f"Iceberg table {table} can set a column to a literal or another column, not {text!r}",
        hint="write a value like 0, 2.5, 'snow', true or null; Delta tables take SQL expressions",
    )
