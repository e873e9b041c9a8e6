"""Iceberg through pyiceberg's SQL catalog in Strata's metadata database: opening the catalog,
creating, registering and dropping tables, and the one place pyiceberg's errors are translated.

pyiceberg adds its ``iceberg_tables`` and ``iceberg_namespace_properties`` tables to the
metadata database on first use.

Every commit also leaves ``metadata/vN.metadata.json`` and ``metadata/version-hint.text``
(holding N) beside pyiceberg's own metadata file, as a Hadoop catalog does, so engines that open
a table by its folder (Spark's path tables, DuckDB's ``iceberg_scan``, pyiceberg's
``StaticTable``) find the current metadata.
"""

from __future__ import annotations

import os
import re
import time
import uuid
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
from sqlalchemy.exc import SQLAlchemyError

from strata.errors import (
    MetadataError,
    MetadataUnavailableError,
    TableConflictError,
    TableError,
    UserInputError,
)
from strata.meta.translate import unreachable
from strata.tables.error_text import first_line

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem
    from pyiceberg.partitioning import PartitionSpec
    from pyiceberg.schema import Schema as IceSchema
    from pyiceberg.table import CommitTableResponse
    from pyiceberg.table import Table as IceTable
    from pyiceberg.table.sorting import SortOrder
    from pyiceberg.table.update import TableRequirement, TableUpdate

NAMESPACE = "strata"
COMMIT_ATTEMPTS = 5
VERSION_HINT = "version-hint.text"
T = TypeVar("T")
_METADATA_NUMBER = re.compile(r"(\d+)-.*\.metadata\.json")
_HADOOP_METADATA = re.compile(r"v(\d+)\.metadata\.json")


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
    except SQLAlchemyError as exc:  # pyiceberg's own queries on the metadata database
        if unreachable(exc):
            raise MetadataUnavailableError(
                f"cannot {action} table {name}: the metadata database cannot be reached",
                hint="retry once the database is back",
            ) from exc
        raise MetadataError(
            f"cannot {action} table {name}: the metadata database failed ({type(exc).__name__})"
        ) from exc


class _HintingCatalog(SqlCatalog):
    """pyiceberg's SQL catalog, writing the version hint after every commit it makes."""

    def commit_table(
        self,
        table: IceTable,
        requirements: tuple[TableRequirement, ...],
        updates: tuple[TableUpdate, ...],
    ) -> CommitTableResponse:
        response = super().commit_table(table, requirements, updates)
        write_version_hint(response.metadata_location, response.metadata.location)
        return response


@cache
def sql_catalog(db_url: str) -> SqlCatalog:
    """pyiceberg's SQL catalog on the metadata database (one per URL and process)."""
    return _HintingCatalog(NAMESPACE, uri=waiting(db_url), pool_pre_ping="true")


def waiting(db_url: str) -> str:
    """The database URL for pyiceberg, a SQLite one waiting for other writers. (Its
    engines also ping a pooled connection before use, so a database restart costs no
    request.)"""
    if db_url.startswith("sqlite") and "timeout=" not in db_url:
        return db_url + ("&" if "?" in db_url else "?") + "timeout=10"
    return db_url


def write_version_hint(metadata_location: str, table_location: str) -> None:
    """Copy the new metadata to ``vN.metadata.json``, then point ``version-hint.text`` at N.

    N is pyiceberg's number for the file, or one more than the highest ``vN`` already there (a
    table registered from another catalog), so no existing file is ever replaced. The copy is
    written before the hint, so a reader never follows the hint to a missing file."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(metadata_location)
    folder, name = path.rsplit("/", 1)
    try:
        taken = [
            m[1]
            for f in fs.ls(folder, detail=False)
            if (m := _HADOOP_METADATA.fullmatch(f.rsplit("/", 1)[-1]))
        ]
        data = fs.cat_file(path)
        if _hinted_content(fs, folder) == data:
            return  # already hinted (by a concurrent writer that read the same pointer)
        own = _METADATA_NUMBER.fullmatch(name)
        number = max([int(own[1]) if own else 0, *(int(n) + 1 for n in taken)])
        _put(fs, f"{folder}/v{number}.metadata.json", data)
        _put(fs, f"{folder}/{VERSION_HINT}", str(number).encode())
    except OSError as exc:
        raise TableError(
            f"committed to the Iceberg table at {table_location}, but cannot write its "
            f"{VERSION_HINT}: {first_line(exc)}",
            hint="engines that open the table by its folder see the previous version until "
            "the next commit writes the hint",
        ) from exc


def _hinted_content(fs: AbstractFileSystem, folder: str) -> bytes | None:
    hinted = hinted_metadata(fs, folder)
    try:
        return None if hinted is None else bytes(fs.cat_file(hinted))
    except OSError:
        return None


def hinted_metadata(fs: AbstractFileSystem, folder: str) -> str | None:
    """The ``vN.metadata.json`` path ``version-hint.text`` in ``folder`` names, if any."""
    try:
        number = fs.cat_file(f"{folder}/{VERSION_HINT}").decode().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return f"{folder}/v{number}.metadata.json"


def _put(fs: AbstractFileSystem, path: str, data: bytes) -> None:
    """Write a whole file atomically: object stores put whole objects, a local folder gets a
    temporary file renamed over the target."""
    from fsspec.implementations.local import LocalFileSystem

    if not isinstance(fs, LocalFileSystem):
        fs.pipe_file(path, data)
        return
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    fs.pipe_file(tmp, data)
    os.replace(tmp, path)


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


def create_empty(
    db_url: str,
    location: str,
    name: str,
    schema: IceSchema,
    partition_spec: PartitionSpec | None,
    sort_order: SortOrder | None,
    properties: dict[str, str],
) -> None:
    """A table with no snapshot yet, from Iceberg's own schema, partition spec and sort order
    (what an Iceberg client creates): its first version is the client's first commit."""
    from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC
    from pyiceberg.table.sorting import UNSORTED_SORT_ORDER

    with translating("create", name):
        catalog = sql_catalog(db_url)
        catalog.create_namespace_if_not_exists(NAMESPACE)
        try:
            table = catalog.create_table(
                identifier(name),
                schema=schema,
                location=location,
                partition_spec=partition_spec or UNPARTITIONED_PARTITION_SPEC,
                sort_order=sort_order or UNSORTED_SORT_ORDER,
                properties=properties,
            )
        except (ValueError, ValidationError) as exc:
            raise UserInputError(f"cannot create table {name}: {first_line(exc)}") from exc
    write_version_hint(table.metadata_location, table.metadata.location)


def register_table(db_url: str, location: str, name: str, metadata: str | None = None) -> None:
    """Add an existing Iceberg table to the SQL catalog: at ``metadata`` (a metadata file), or
    at its newest metadata file."""
    import fsspec

    if metadata is not None and not _exists(metadata):
        raise UserInputError(
            f"cannot register table {name}: no metadata file at {metadata}",
            hint="name a table's current metadata file, metadata/*.metadata.json",
        )
    fs, root = fsspec.core.url_to_fs(location)
    found = sorted(fs.glob(f"{root.rstrip('/')}/metadata/*.metadata.json"), key=_metadata_order)
    if not found:
        raise TableError(f"no Iceberg metadata under {location}/metadata")
    newest = found[-1] if "://" not in location else f"{location.split('://')[0]}://{found[-1]}"
    with translating("register", name):
        catalog = sql_catalog(db_url)
        catalog.create_namespace_if_not_exists(NAMESPACE)
        catalog.register_table(identifier(name), metadata or newest)


def _exists(path: str) -> bool:
    import fsspec

    fs, inside = fsspec.core.url_to_fs(path)
    try:
        return bool(fs.isfile(inside))
    except OSError:
        return False


def rename_table(db_url: str, old: str, new: str) -> None:
    with translating("rename", old):
        sql_catalog(db_url).rename_table(identifier(old), identifier(new))


def _metadata_order(path: str) -> tuple[int, bool, str]:
    """Newest last; of a pyiceberg file and the ``vN`` copy with the same N, the former."""
    stem = path.rsplit("/", 1)[-1]
    match = re.match(r"(?:v)?(\d+)", stem)
    return (int(match[1]) if match else -1, not stem.startswith("v"), stem)


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
