"""Table versioning on open formats: Delta Lake (delta-rs, the default) and Apache Iceberg.

One ``Table`` interface (``strata.tables.base``) with a Delta and an Iceberg implementation,
and a catalog in the metadata database (``TableCatalog``): name → format, location, pinned
versions and per-version stats. Importing this package imports neither pyarrow, deltalake nor
pyiceberg; the format modules are imported when a table of that format is opened.

    ws.tables.create("deliveries", "deliveries.parquet")
    ws.table("deliveries").append(frame, message="october")
    ws.table("deliveries").at(47).to_polars()
"""

from strata.tables.base import Table, TableVersion
from strata.tables.catalog import MANUAL_PIN, TableCatalog
from strata.tables.records import (
    FORMATS,
    Commit,
    Format,
    Pin,
    TableInfo,
    VacuumResult,
    WriteResult,
)

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
