"""Commits Iceberg clients make (through the REST catalog): requirements and updates in
pyiceberg's own types, applied with pyiceberg's metadata-update code to tables in Strata's SQL
catalog; several tables in one commit all or nothing.

    commit_changes(db_url, [TableChange("deliveries", requirements, updates)], meta, pins)

Each table's new metadata file is written first; then one database transaction moves every
table's metadata pointer, each only if it still points where the commit started from. A
requirement that no longer holds, or a pointer another writer moved meanwhile, is a
TableConflictError and nothing changes. Every snapshot a commit adds carries Strata's commit
metadata (the acting user, the run), replacing whatever the client put under those keys; a
commit that would expire a pinned version, or drop or move its pin tag, is refused.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from pyiceberg.catalog.sql import IcebergTables
from pyiceberg.exceptions import CommitFailedException, ValidationError
from pyiceberg.table.snapshots import Summary
from pyiceberg.table.update import (
    AddSnapshotUpdate,
    RemoveSnapshotRefUpdate,
    RemoveSnapshotsUpdate,
    SetSnapshotRefUpdate,
    TableRequirement,
    TableUpdate,
)

from strata.errors import TablePinnedError, UserInputError
from strata.meta.translate import translating as translating_sql
from strata.tables.error_text import first_line
from strata.tables.iceberg import PIN_TAG
from strata.tables.iceberg_catalog import (
    NAMESPACE,
    identifier,
    sql_catalog,
    translating,
    write_version_hint,
)
from strata.tables.iceberg_snapshots import sequence
from strata.tables.records import RUN_KEY, USER_KEY
from strata.tables.retry import INPUT_KEY

if TYPE_CHECKING:
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.table import StagedTable
    from pyiceberg.table import Table as IceTable
    from pyiceberg.table.metadata import TableMetadata

    from strata.tables.records import Pin

_STAMPED_KEYS = (USER_KEY, RUN_KEY, INPUT_KEY)
_HINTING = threading.Lock()  # this process's commits write version hints one at a time


@dataclass(frozen=True, slots=True)
class TableChange:
    """What one commit asks of one table: requirements on its metadata, and the updates."""

    name: str
    requirements: tuple[TableRequirement, ...]
    updates: tuple[TableUpdate, ...]


@dataclass(frozen=True, slots=True)
class Committed:
    """A table after a commit: its metadata, and the version the commit made (None when it
    added no snapshot: a schema, property or ref change)."""

    name: str
    metadata_location: str
    metadata: TableMetadata
    version: int | None


def commit_changes(
    db_url: str,
    changes: Sequence[TableChange],
    meta: Mapping[str, str],
    pins: Mapping[str, Sequence[Pin]],
) -> list[Committed]:
    """Apply every change, all or nothing; the tables as they are afterwards."""
    catalog = sql_catalog(db_url)
    staged: list[tuple[IceTable, StagedTable]] = []
    for change in changes:
        with translating("commit to", change.name):
            current = catalog.load_table(identifier(change.name))
            _refuse_unpinning(change, current, pins.get(change.name, ()))
            updates = tuple(_stamped(update, meta) for update in change.updates)
            staged.append((current, _staged(catalog, change, current, updates)))
    moved = [(old, new) for old, new in staged if new.metadata != old.metadata]
    names = ", ".join(change.name for change in changes)
    with translating("commit to", names):
        for _, new in moved:
            catalog._write_metadata(new.metadata, new.io, new.metadata_location)
        _move_pointers(catalog, db_url, moved)
    for old, _ in moved:
        _hint_current(catalog, old.name()[-1])
    return [
        _committed(change.name, old, new)
        for change, (old, new) in zip(changes, staged, strict=True)
    ]


def _hint_current(catalog: SqlCatalog, name: str) -> None:
    """Point the version hint at the table's current metadata, one commit at a time: of two
    concurrent commits, the first to finish must not hint its (older) metadata last."""
    with _HINTING, translating("commit to", name):
        current = catalog.load_table(identifier(name))
        write_version_hint(current.metadata_location, current.metadata.location)


def _move_pointers(
    catalog: SqlCatalog, db_url: str, moved: Sequence[tuple[IceTable, StagedTable]]
) -> None:
    """In one transaction, point each table at its new metadata, if nobody else did first."""
    rows = IcebergTables
    with translating_sql("cannot commit Iceberg metadata", db_url), catalog.engine.begin() as tx:
        for old, new in moved:
            name = old.name()[-1]
            done = tx.execute(
                sa.update(rows)
                .where(
                    rows.catalog_name == catalog.name,
                    rows.table_namespace == NAMESPACE,
                    rows.table_name == name,
                    rows.metadata_location == old.metadata_location,
                )
                .values(
                    metadata_location=new.metadata_location,
                    previous_metadata_location=old.metadata_location,
                )
            )
            if done.rowcount < 1:  # raising rolls back the whole transaction
                raise CommitFailedException(f"table {name} was changed by another commit")


def _staged(
    catalog: SqlCatalog, change: TableChange, current: IceTable, updates: tuple[TableUpdate, ...]
) -> StagedTable:
    """The table's metadata with the updates applied (pyiceberg's code), once every
    requirement holds; an update the metadata cannot take is bad input."""
    try:
        return catalog._update_and_stage_table(
            current, identifier(change.name), change.requirements, updates
        )
    except (ValueError, ValidationError) as exc:
        raise UserInputError(f"cannot commit to table {change.name}: {first_line(exc)}") from exc


def _committed(name: str, old: IceTable, new: StagedTable) -> Committed:
    before, after = old.current_snapshot(), new.current_snapshot()
    added = after is not None and (before is None or after.snapshot_id != before.snapshot_id)
    version = sequence(after) if added and after is not None else None
    return Committed(name, new.metadata_location, new.metadata, version)


def _stamped(update: TableUpdate, meta: Mapping[str, str]) -> TableUpdate:
    """An added snapshot's summary with Strata's commit metadata (the client's own keys
    for the user and the run dropped: a client cannot commit as someone else)."""
    if not isinstance(update, AddSnapshotUpdate):
        return update
    snapshot = update.snapshot
    old = snapshot.summary
    kept = {} if old is None else dict(old.additional_properties)
    for key in _STAMPED_KEYS:
        kept.pop(key, None)
    summary = Summary(old.operation if old is not None else None, **{**kept, **meta})
    return update.model_copy(update={"snapshot": snapshot.model_copy(update={"summary": summary})})


def _refuse_unpinning(change: TableChange, table: IceTable, pins: Sequence[Pin]) -> None:
    pinned = {PIN_TAG.format(version=p.version): p for p in pins}
    by_snapshot = {
        s.snapshot_id: pinned[tag]
        for s in table.snapshots()
        if (tag := PIN_TAG.format(version=sequence(s))) in pinned
    }
    for update in change.updates:
        hit: Pin | None = None
        if isinstance(update, RemoveSnapshotsUpdate):
            hit = next((by_snapshot[i] for i in update.snapshot_ids if i in by_snapshot), None)
        elif isinstance(update, RemoveSnapshotRefUpdate | SetSnapshotRefUpdate):
            hit = pinned.get(update.ref_name)
        if hit is not None:
            raise TablePinnedError(
                f"cannot commit to table {change.name}: it would remove version {hit.version}, "
                f"pinned by {hit.pinned_by}",
                hint=f"unpin it first with `strata table unpin {change.name} {hit.version}`",
            )
