"""What the modules under ``Lineage`` use of it, as Protocols.

``Lineage`` (``strata.lineage.service``) sits on top of the lineage package: it calls
``analysis``, ``compare``, ``reproduce``, ``ingest`` and the OpenLineage ``Emitter``, and hands
out ``Run`` objects. Those modules never import it back; they take one of these instead, and
``Lineage`` is both.

- ``LineageView``: the database, the workspace root and the collaborators the workspace wired
  (resolver, describer, materializer, rows written, Iceberg snapshots' versions), with exact
  refs, runs and feature sets; what provenance, impact, compare, reproduce, ingest and
  OpenLineage events read.
- ``RunRecorder``: what a run in progress records through (exact refs and edges).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from strata.lineage.catalog import RowsWritten, SnapshotVersion
    from strata.lineage.describe import Describer, Materializer, Resolver
    from strata.lineage.records import FeatureSet, RunRecord
    from strata.meta import MetadataDB


class RunRecorder(Protocol):
    def exact(self, text: str) -> str:
        """``text`` as the exact version it names now, canonical; LineageError otherwise."""
        ...

    def record_edges(self, edges: Sequence[tuple[str, str, str]], *, run_id: str | None) -> None:
        """Store ``(src, dst, kind)`` edges, recorded by run ``run_id`` (or by none)."""
        ...

    def require_running(self, run_id: str) -> None:
        """LineageError when run ``run_id`` has ended."""
        ...


class LineageView(Protocol):
    @property
    def db(self) -> MetadataDB: ...
    @property
    def root(self) -> Path: ...
    @property
    def namespace(self) -> str: ...
    @property
    def resolver(self) -> Resolver | None: ...
    @property
    def describer(self) -> Describer: ...
    @property
    def materializer(self) -> Materializer | None: ...
    @property
    def rows_written(self) -> RowsWritten | None: ...
    @property
    def snapshot_version(self) -> SnapshotVersion | None: ...

    def exact(self, text: str) -> str:
        """``text`` as the exact version it names now, canonical; LineageError otherwise."""
        ...

    def run(self, ref: str) -> RunRecord:
        """The run ``run:ID`` (or ``ID``) with its inputs and outputs."""
        ...

    def feature_sets(self, name: str | None = None) -> list[FeatureSet]:
        """The feature sets (of ``name``), every version."""
        ...
