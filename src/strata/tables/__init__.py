"""Table versioning on open formats: Delta Lake (delta-rs, the default) and Apache Iceberg.

One ``Table`` interface (``strata.tables.base``) with a Delta and an Iceberg implementation,
and a catalog in the metadata database (``TableCatalog``): name → format, location, pinned
versions and per-version stats. Importing this package imports neither pyarrow, deltalake nor
pyiceberg; the format modules are imported when a table of that format is opened.

    ws.tables.create("deliveries", "deliveries.parquet")
    ws.table("deliveries").append(frame, message="october")
    ws.table("deliveries").at(47).to_polars()
"""

from strata.tables.base import (
    FORMATS,
    Commit,
    Format,
    Pin,
    Table,
    TableInfo,
    TableVersion,
    VacuumResult,
    WriteResult,
)
from strata.tables.catalog import MANUAL_PIN, TableCatalog

__all__ = [
    "FORMATS",
    "MANUAL_PIN",
    "Commit",
    "Format",
    "Pin",
    "Table",
    "TableCatalog",
    "TableInfo",
    "TableVersion",
    "VacuumResult",
    "WriteResult",
]
