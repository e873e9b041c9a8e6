"""What the table catalog and the model registry recorded, read with plain SQL.

Lineage does not import ``strata.tables`` or ``strata.models`` (capabilities never import each
other); it reads their tables in the metadata database, read-only, when ``strata.meta.schema``
defines them.

- ``MetaDescriber``: a table version's row count, schema (and its hash) and column statistics
  where the catalog stored them (one query; the model registry describes its versions through
  the describer the workspace passes in).
- ``TableStatsDescriber``: asks the table itself for its stats through a function the workspace
  passes (a table computes them on first request); ``table:NAME@latest`` is resolved by the
  workspace too, which alone can open tables.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from strata.errors import TableError
from strata.meta import schema
from strata.refs import Ref, Version

if TYPE_CHECKING:
    from strata.meta import MetadataDB


def _table(name: str) -> sa.Table | None:
    found = getattr(schema, name, None)
    return found if isinstance(found, sa.Table) else None


class MetaDescriber:
    def __init__(self, db: MetadataDB) -> None:
        self.db = db

    def describe(self, ref: Ref) -> dict[str, Any] | None:
        if not isinstance(ref.selector, Version):
            return None
        if ref.kind == "table":
            return self._table_version(ref.name, ref.selector.number)
        return None

    def _table_version(self, name: str, version: int) -> dict[str, Any] | None:
        """From the stats the catalog stored (it stores them the first time they are asked
        for; ``TableStatsDescriber`` asks the table itself)."""
        catalog, stats = _table("table_catalog"), _table("table_stats")
        if catalog is None or stats is None:
            return None
        query = (
            sa.select(stats.c.stats_json, stats.c.recorded_at, catalog.c.format)
            .join(catalog, catalog.c.id == stats.c.table_id)
            .where(catalog.c.name == name, stats.c.version == version)
        )
        with self.db.transaction("cannot read table stats", write=False) as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        found = table_description(json.loads(row.stats_json))
        found.update(format=row.format, stats_recorded_at=row.recorded_at.isoformat())
        return found


def table_description(stats: Mapping[str, Any]) -> dict[str, Any]:
    """A table version's stats (``TableStats.to_dict()``) as lineage reports them."""
    fields = list(stats.get("schema") or [])
    return {
        "row_count": stats.get("row_count"),
        "size_bytes": stats.get("size_bytes"),
        "file_count": stats.get("file_count"),
        "schema_hash": hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest(),
        "schema_fields": fields,
        "columns": {f["name"]: f.get("type") for f in fields},
        "column_metrics": _column_metrics(stats.get("columns") or {}),
    }


StatsOf = Callable[[str, int], Mapping[str, Any]]
"""name, version → that table version's stats as a dict; raises TableError when unknown."""
RowsWritten = Callable[[str, int], int | None]
"""name, version → the rows the commit that made that version wrote (None when its format
does not say); raises TableError when unknown."""
SnapshotVersion = Callable[[str, int], int | None]
"""name, Iceberg snapshot id → the version of that table that snapshot is (None when the
table is not Iceberg or keeps no such snapshot); raises TableError when the table is unknown."""


class TableStatsDescriber:
    """Table versions described from their stats, asked of the table capability (which
    computes and stores them when they were never asked for)."""

    def __init__(self, stats_of: StatsOf) -> None:
        self.stats_of = stats_of

    def describe(self, ref: Ref) -> dict[str, Any] | None:
        if ref.kind != "table" or not isinstance(ref.selector, Version):
            return None
        try:
            return table_description(self.stats_of(ref.name, ref.selector.number))
        except TableError:
            return None


def _column_metrics(columns: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Column statistics in OpenLineage's shape (numbers only, as its schema wants)."""
    found: dict[str, dict[str, Any]] = {}
    for name, stats in columns.items():
        metrics: dict[str, Any] = {}
        if isinstance(stats.get("null_count"), int):
            metrics["nullCount"] = stats["null_count"]
        for key in ("min", "max"):
            value = stats.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                metrics[key] = value
        found[name] = metrics
    return found


_SAME_SCHEME = {"s3a": "s3", "s3n": "s3", "abfss": "abfs", "wasbs": "wasb"}


def physical_location(namespace: str, name: str) -> str | None:
    """Where an OpenLineage dataset lives, as the catalog writes locations: a local path for
    Spark's ``file`` + ``/path`` (or ``file://``), ``scheme://bucket/path`` otherwise; None
    for a namespace that names no storage (``bigquery``, ``postgres://...`` and such)."""
    if namespace in ("file", "file://") or namespace.startswith("file://"):
        path = namespace.removeprefix("file://").removeprefix("file") + name
        return path.rstrip("/") if path.startswith("/") else None
    scheme, sep, bucket = namespace.partition("://")
    if not sep or not bucket or scheme not in ("s3", "gs", "gcs", "abfs", "az", *_SAME_SCHEME):
        return None
    scheme = _SAME_SCHEME.get(scheme, scheme)
    return f"{scheme}://{bucket.strip('/')}/{name.strip('/')}".rstrip("/")


def table_at(connection: sa.Connection, namespace: str, name: str) -> tuple[str, str] | None:
    """The catalog name and format of the table stored where the dataset ``namespace`` +
    ``name`` is."""
    catalog = _table("table_catalog")
    location = physical_location(namespace, name)
    if catalog is None or location is None:
        return None
    scheme, sep, rest = location.partition("://")
    spellings = {location}
    if sep:
        spellings |= {f"{other}://{rest}" for other, same in _SAME_SCHEME.items() if same == scheme}
    spellings |= {f"{s}/" for s in spellings}
    query = sa.select(catalog.c.name, catalog.c.format).where(
        catalog.c.location.in_(sorted(spellings))
    )
    row = connection.execute(query).first()
    return None if row is None else (str(row.name), str(row.format))
