"""Build a workspace's ``Lineage`` from its configuration.

[lineage]
namespace = "delivery-team"          # OpenLineage job namespace (default "strata")

[lineage.openlineage]
transport = "http"                   # none (default) | console | file | http
url = "http://127.0.0.1:5000"        # http: the endpoint (Marquez: its API base URL)
endpoint = "api/v1/lineage"          # http: the path under url that takes events
timeout = "5"                        # http: seconds
path = ".strata/openlineage.jsonl"   # file: the JSON Lines file events are appended to

or ``strata config set lineage.openlineage.transport http`` and so on (config.OPTIONS).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from strata.config import STRATA_DIR, Config
from strata.lineage.describe import Describer, Materializer, Resolver
from strata.lineage.service import Archiver, Lineage

if TYPE_CHECKING:
    from strata.lineage.catalog import RowsWritten, SnapshotVersion, StatsOf
    from strata.meta import MetadataDB
    from strata.objects import ObjectStore

QUEUE_FILE = "openlineage-queue.jsonl"


def open_lineage(
    root: Path,
    db: MetadataDB,
    config: Config,
    *,
    resolver: Resolver | None = None,
    describers: Sequence[Describer] = (),
    materializer: Materializer | None = None,
    objects: ObjectStore | None = None,
    archiver: Archiver | None = None,
    table_stats: StatsOf | None = None,
    rows_written: RowsWritten | None = None,
    snapshot_version: SnapshotVersion | None = None,
) -> Lineage:
    from strata.lineage.openlineage import emitter_from_settings

    settings = {
        key.removeprefix("lineage.openlineage."): value
        for key, value in config.values.items()
        if key.startswith("lineage.openlineage.")
    }
    namespace = config.values.get("lineage.namespace") or "strata"
    emitter = emitter_from_settings(settings, root=root, queue=root / STRATA_DIR / QUEUE_FILE)
    from strata.lineage.catalog import MetaDescriber, TableStatsDescriber

    describers = [*describers, MetaDescriber(db)]  # stored stats first: one query
    if table_stats is not None:
        describers.append(TableStatsDescriber(table_stats))
    return Lineage(
        db,
        root,
        namespace=namespace,
        resolver=resolver,
        describers=describers,
        materializer=materializer,
        emitter=emitter,
        objects=objects,
        archiver=archiver,
        rows_written=rows_written,
        snapshot_version=snapshot_version,
    )
