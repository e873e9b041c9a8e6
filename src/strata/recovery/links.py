"""The seams between capabilities, which never import each other: the workspace hands each
one these small objects, built on the others. Each takes providers (called on use) rather
than the parts themselves, because the parts are opened lazily and some need each other.

- ``RegistrationLinks``: a model version's data made exact before it is registered, and its
  table versions pinned and its lineage edges recorded with its rows; and, before a
  promotion, whether today's production version could come back.
- ``LineageResolver``, ``ModelDescriber``, ``TableExporter``: what lineage asks of files,
  tables and the registry (exact versions, descriptions, a version written to disk).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.refs import Ref, Revision, Version, VersionRange, parse_ref

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from strata.activity import Activity
    from strata.lineage import Lineage
    from strata.models import Registry
    from strata.models.records import ModelVersion
    from strata.recovery.readiness import RollbackTargets
    from strata.tables import TableCatalog


def _now() -> datetime:
    return datetime.now(UTC)


class RegistrationLinks:
    """A model version's data and features, exact before it is registered; with its rows,
    in the same transaction, its table versions pinned (vacuum keeps them while the version
    exists) and its lineage edges, so provenance and impact find it without a run."""

    def __init__(
        self,
        *,
        tables: Callable[[], TableCatalog],
        lineage: Callable[[], Lineage],
        registry: Callable[[], Registry],
        targets: Callable[[], RollbackTargets],
        activity: Activity,
    ) -> None:
        self._tables = tables
        self._lineage = lineage
        self._registry = registry
        self._targets = targets
        self._activity = activity

    def exact(self, ref: str) -> str:
        parsed = parse_ref(ref)
        if parsed.kind == "table":
            table, version = self._tables().version_of(parsed)
            return f"table:{table.name}@{version}"
        return self._lineage().exact(ref)

    def prepare(self, refs: Sequence[str]) -> None:
        """Before the registration's transaction, for the exact refs it links to: each table
        version checked (its stats recorded) and protected from log clean-up, and lineage
        opened, so that ``record`` only writes rows."""
        for ref in refs:
            parsed = parse_ref(ref)
            if parsed.kind == "table" and isinstance(parsed.selector, Version):
                table = self._tables().open(parsed.name)
                table.stats(parsed.selector.number)
                table.protect(parsed.selector.number)
        if refs:
            self._lineage()

    def record(self, connection: Connection, version: ModelVersion) -> None:
        """In the registration's transaction: its table versions pinned (vacuum keeps them
        while the version exists) and its lineage edges, all refs exact already."""
        from strata.tables import rows

        edges = []
        for data in version.data:
            ref = parse_ref(data)
            if ref.kind == "table" and isinstance(ref.selector, Version):
                rows.add_pin(connection, ref.name, ref.selector.number, version.ref, _now())
            edges.append((data, version.ref, "trained-on"))
        if version.features:
            edges.append((version.features, version.ref, "features"))
        if version.run and version.run != f"run:{self._activity.run_id()}":
            edges.append((version.run, version.ref, "output"))
        if edges:
            self._lineage().add_edges(connection, edges, run_id=None)

    def rollback_problems(self, name: str) -> list[str]:
        """Before a promotion to production: why putting back today's production version
        would not work (its artifact, its training data); empty when it would, or when no
        version is in production."""
        from strata.errors import ModelVersionNotFoundError

        try:
            current = self._registry().show(f"model:{name}@production")
        except ModelVersionNotFoundError:
            return []
        checks = self._targets().checks(current, rehash=False)
        return [f"{current.ref} {c.what}: {c.detail}" for c in checks if not c.ok]


class LineageResolver:
    """Moving selectors → exact versions: a file's content hash (now, or at a git
    revision), a table's version number, a model's version number (stage, alias, semver)."""

    def __init__(
        self,
        *,
        file_hash: Callable[[Ref], str],
        tables: Callable[[], TableCatalog],
        registry: Callable[[], Registry],
    ) -> None:
        self._file_hash = file_hash
        self._tables = tables
        self._registry = registry

    def __call__(self, ref: Ref) -> Ref | None:
        if ref.kind == "file":
            return ref.with_selector(Revision(self._file_hash(ref)))
        if ref.kind == "table" and not isinstance(ref.selector, VersionRange):
            return ref.with_selector(Version(self._tables().version_of(ref)[1]))
        if ref.kind == "model":
            return ref.with_selector(Version(self._registry().resolve(ref).number))
        return None


class ModelDescriber:
    """A model version as lineage reports it: semver, stage, aliases, artifact, metrics and
    the links the registry recorded."""

    def __init__(self, registry: Callable[[], Registry]) -> None:
        self._registry = registry

    def describe(self, ref: Ref) -> dict[str, Any] | None:
        from strata.errors import RegistryError

        if ref.kind != "model" or not isinstance(ref.selector, Version):
            return None
        try:
            version = self._registry().show(ref)
        except RegistryError:
            return None
        return {
            "semver": str(version.semver),
            "stage": version.stage,
            "aliases": list(version.aliases),
            "artifact_hash": version.artifact_hash,
            "flavor": version.flavor,
            "metrics": version.metrics,
            "data_refs": list(version.data),
            "features_ref": version.features,
            "run_ref": version.run,
            "registered_at": version.created_at.isoformat(),
            "registered_by": version.created_by,
            "git_commit": version.git_commit,
            "git_dirty": version.git_dirty,
        }


class TableExporter:
    """``table:NAME@V`` written as ``folder/tables/NAME@V.parquet`` (``reproduce``
    materialises its inputs so)."""

    def __init__(self, tables: Callable[[], TableCatalog]) -> None:
        self._tables = tables

    def __call__(self, ref: Ref, folder: Path) -> Path | None:
        if ref.kind != "table" or not isinstance(ref.selector, Version):
            return None
        import pyarrow.parquet as pq

        target = folder / "tables" / f"{ref.name}@{ref.selector.number}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        table = self._tables().open(ref.name).at(ref.selector.number).to_arrow()
        pq.write_table(table, target)
        return target
