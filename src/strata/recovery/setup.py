"""Building ``ws.recovery`` from the capabilities it spans, each passed in (never the whole
workspace): rollbacks with their readiness checks, releases, and incident reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from strata.guard.check import Guard
    from strata.lineage import Lineage
    from strata.meta import FileVersion, MetadataDB
    from strata.models import Registry
    from strata.objects import ObjectStore
    from strata.objects.remote import Remote
    from strata.recovery import Recovery
    from strata.tables import TableCatalog


def open_recovery(
    db: MetadataDB,
    registry: Registry,
    tables: TableCatalog,
    store: ObjectStore,
    *,
    file_versions: Callable[[str], list[FileVersion]],
    default_remote: Callable[[], Remote | None],
    tracked_files: Callable[[], dict[str, str]],
    git_head: Callable[[], str | None],
    guard: Callable[[], Guard],
    lineage: Callable[[], Lineage],
) -> Recovery:
    from strata.recovery import Recovery
    from strata.recovery.incidents import IncidentSources
    from strata.recovery.readiness import RollbackTargets
    from strata.recovery.releases import Releases
    from strata.recovery.rollback import Rollbacks

    targets = RollbackTargets(registry, tables, store, file_versions, default_remote)
    releases = Releases(db, registry, tables, tracked_files=tracked_files, git_head=git_head)
    sources = IncidentSources(registry, tables, guard, lineage)
    return Recovery(Rollbacks(targets, registry, tables), releases, sources)
