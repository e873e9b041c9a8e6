"""Iceberg through pyiceberg's SQL catalog in Strata's metadata database: opening the catalog,
creating, registering and dropping tables, and the one place pyiceberg's errors are translated.

pyiceberg adds its ``iceberg_tables`` and ``iceberg_namespace_properties`` tables to the
metadata database on first use.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, TypeVar

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import (
    CommitFailedException,
    NoSuchTableError,
    ValidationError,
)
from pyparsing import ParseException

from strata.errors import TableConflictError, TableError, UserInputError
from strata.tables.base import first_line

if TYPE_CHECKING:
    from pyiceberg.schema import Schema as IceSchema

NAMESPACE = "strata"
COMMIT_ATTEMPTS = 5
T = TypeVar("T")


@contextmanager
def translating(action: str, name: str) -> Iterator[None]:
    try:
        yield
    except CommitFailedException as exc:
        raise TableConflictError(
            f"cannot {action} table {name}: a concurrent commit conflicts ({first_line(exc)})"
        ) from exc
    except ParseException as exc:
        raise UserInputError(
            f"cannot {action} table {name}: bad predicate ({exc.msg} at column {exc.col})",
            hint="write e.g. \"delay_min > 10 and weather = 'snow'\" (Iceberg's filter syntax)",
        ) from exc
    except NoSuchTableError as exc:
        raise TableError(
            f"cannot {action} table {name}: no Iceberg table in the catalog ({first_line(exc)})",
            hint="check it with `strata table list`",
        ) from exc
    except (ValidationError, ValueError, pa.ArrowException, OSError) as exc:
        raise TableError(f"cannot {action} table {name}: {first_line(exc)}") from exc


@cache
def sql_catalog(db_url: str) -> SqlCatalog:
    """pyiceberg's SQL catalog on the metadata database (one per URL and process)."""
    uri = db_url
    if uri.startswith("sqlite") and "timeout=" not in uri:
        uri += ("&" if "?" in uri else "?") + "timeout=10"  # wait for other writers
    return SqlCatalog(NAMESPACE, uri=uri)


def identifier(name: str) -> tuple[str, str]:
    return (NAMESPACE, name)


def retrying(action: Callable[[], T]) -> T:
    """Run a commit again (on fresh metadata) when a concurrent writer won the race."""
    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        try:
            return action()
        except CommitFailedException:
            if attempt == COMMIT_ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def create_table(
    db_url: str,
    location: str,
    name: str,
    rows: pa.Table | None,
    schema: pa.Schema | None,
    partition_by: Sequence[str],
    meta: dict[str, str],
) -> None:
    """Create the table and commit its first snapshot (the rows, or none)."""
    arrow_schema = rows.schema if rows is not None else schema
    assert arrow_schema is not None
    with translating("create", name):
        catalog = sql_catalog(db_url)
        catalog.create_namespace_if_not_exists(NAMESPACE)
        table = catalog.create_table(identifier(name), schema=arrow_schema, location=location)
        if partition_by:
            with table.update_spec() as spec:
                for column in partition_by:
                    spec.add_identity(column)
            table = catalog.load_table(identifier(name))
        data = rows if rows is not None else arrow_schema.empty_table()
        table.append(conform(data, table.schema()), snapshot_properties=meta)


def register_table(db_url: str, location: str, name: str) -> None:
    """Add an existing Iceberg table (its newest metadata file) to the SQL catalog."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(location)
    found = sorted(fs.glob(f"{root.rstrip('/')}/metadata/*.metadata.json"), key=_metadata_order)
    if not found:
        raise TableError(f"no Iceberg metadata under {location}/metadata")
    newest = found[-1] if "://" not in location else f"{location.split('://')[0]}://{found[-1]}"
    with translating("register", name):
        catalog = sql_catalog(db_url)
        catalog.create_namespace_if_not_exists(NAMESPACE)
        catalog.register_table(identifier(name), newest)


def _metadata_order(path: str) -> tuple[int, str]:
    stem = path.rsplit("/", 1)[-1]
    match = re.match(r"(?:v)?(\d+)", stem)
    return (int(match[1]) if match else -1, stem)


def drop_table(db_url: str, location: str, name: str) -> None:
    with translating("drop", name):
        try:
            sql_catalog(db_url).drop_table(identifier(name))
        except NoSuchTableError:
            pass


def conform(rows: pa.Table, schema: IceSchema) -> pa.Table:
    """Cast the data's columns to the table's types (safe widenings were checked before)."""
    target = schema.as_arrow()
    columns, fields = [], []
    for field in target:
        if field.name in rows.column_names:
            columns.append(rows[field.name].cast(field.type))
        else:
            columns.append(pa.nulls(rows.num_rows, field.type))
        fields.append(field)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))
