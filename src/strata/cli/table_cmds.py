"""``strata table ...``: versioned tables on Delta Lake or Iceberg.

Thin over ``Workspace.tables``; pyarrow, deltalake and pyiceberg are imported only inside the
commands (through the tables package), so ``strata --help`` stays fast. The commands live by
what they do, each module registering its own on ``app`` (in the order ``--help`` lists them):
the catalog, writes, reads, pins and maintenance, Iceberg extras.
"""

from __future__ import annotations

import typer

from strata.cli import (
    table_catalog_cmds,
    table_iceberg_cmds,
    table_maintenance_cmds,
    table_read_cmds,
    table_write_cmds,
)

app = typer.Typer(
    help="Versioned tables on open formats (Delta Lake by default, or Iceberg).\n\n"
    "Example: strata table create deliveries --from deliveries.parquet",
    no_args_is_help=True,
)
for commands in (
    table_catalog_cmds,
    table_write_cmds,
    table_read_cmds,
    table_maintenance_cmds,
    table_iceberg_cmds,
):
    commands.register(app)
