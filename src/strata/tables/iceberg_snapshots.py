"""The versions of an Iceberg table: Strata's version numbers are snapshot sequence numbers
(1, 2, …; 0 while the table has no snapshot yet). The snapshot of a version (and the error
naming what is left when snapshot expiry removed it), the history, the schema a version was
written with, and the files a snapshot lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from strata.errors import TableVersionNotFoundError
from strata.tables.records import MESSAGE_KEY, RUN_KEY, USER_KEY, Commit
from strata.tables.retry import INPUT_KEY
from strata.tables.unreadable import version_gone

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.table import Table as IceTable
    from pyiceberg.table.snapshots import Snapshot

_STRATA_KEYS = (MESSAGE_KEY, RUN_KEY, USER_KEY, INPUT_KEY)


def sequence(snapshot: Snapshot) -> int:
    """A snapshot's sequence number: Strata's version number of it (format v1 has none: 0)."""
    return snapshot.sequence_number or 0


def version_of_snapshot(table: IceTable, snapshot_id: int) -> int | None:
    """The version (sequence number) of snapshot ``snapshot_id``; None when the table keeps no
    such snapshot (never had it, or expiry removed it)."""
    snapshot = table.snapshot_by_id(snapshot_id)
    return None if snapshot is None else sequence(snapshot)


def unborn(table: IceTable, version: int) -> bool:
    """Whether ``version`` is the 0 of a table that has no snapshot yet (made by another tool
    and registered before its first write): an empty version, with the current schema."""
    return version == 0 and table.current_snapshot() is None and not table.snapshots()


def snapshot_at(table: IceTable, name: str, version: int) -> Snapshot:
    """The snapshot of ``version`` of table ``name``. A version the table had (at most its
    last sequence number) whose snapshot is gone was expired: the error says so and names the
    versions still readable (every snapshot the metadata keeps)."""
    snapshots = table.snapshots()
    for snapshot in snapshots:
        if sequence(snapshot) == version:
            return snapshot
    last = int(getattr(table.metadata, "last_sequence_number", 0))  # format v1: none
    if 0 < version <= last:
        readable = [sequence(s) for s in snapshots]
        raise version_gone(name, version, "its snapshot was expired (vacuumed)", readable)
    raise TableVersionNotFoundError(
        f"table {name} has no version {version}",
        hint="see the versions with `strata table history NAME`",
    )


def history(table: IceTable) -> list[Commit]:
    """The current snapshot and its ancestors; where expiry cut that chain, the older tagged
    (pinned) snapshots that are still readable."""
    by_id = {s.snapshot_id: s for s in table.snapshots()}
    current, chain = table.current_snapshot(), []
    while current is not None:
        chain.append(current)
        parent = current.parent_snapshot_id
        current = by_id.get(parent) if parent is not None else None
    if chain:  # expiry cuts the chain (and clears the parent id of what it keeps)
        tagged = {
            r.snapshot_id for r in table.metadata.refs.values() if r.snapshot_ref_type == "tag"
        }
        oldest = sequence(chain[-1])
        chain += sorted(
            (by_id[i] for i in tagged if i in by_id and sequence(by_id[i]) < oldest),
            key=sequence,
            reverse=True,
        )
    return [_commit(s) for s in chain]


def schema_of(table: IceTable, snapshot: Snapshot) -> pa.Schema:
    """The schema ``snapshot`` was written with (the current one when the metadata lost it)."""
    schema_id = snapshot.schema_id
    for schema in table.schemas().values():
        if schema.schema_id == schema_id:
            return schema.as_arrow()
    return table.schema().as_arrow()


def file_entries(table: IceTable, snapshot: Snapshot) -> pa.Table | None:
    """The data and delete files ``snapshot`` lists, as ``inspect.files`` gives them; None
    when it lists no manifest at all (the first snapshot of a table created empty), which
    ``inspect.files`` cannot take (it concatenates no tables)."""
    if not snapshot.manifests(table.io):
        return None
    return table.inspect.files(snapshot_id=snapshot.snapshot_id)


def committed_version(table: IceTable) -> int:
    """The version this process just committed on ``table`` (pyiceberg refreshes a table's
    metadata from its own commit), not whatever another writer committed since."""
    snapshot = table.current_snapshot()
    assert snapshot is not None, "a commit always leaves a current snapshot"
    return sequence(snapshot)


def _commit(snapshot: Snapshot) -> Commit:
    summary = dict(snapshot.summary.additional_properties) if snapshot.summary else {}
    operation = snapshot.summary.operation.value.upper() if snapshot.summary else "UNKNOWN"
    if summary.get("strata.operation") in ("optimize", "update"):
        operation = summary["strata.operation"].upper()
    elif "strata.restored-version" in summary:
        operation = "RESTORE"
    return Commit(
        version=sequence(snapshot),
        timestamp=datetime.fromtimestamp(snapshot.timestamp_ms / 1000, UTC),
        operation=operation,
        parameters={k: v for k, v in summary.items() if k not in _STRATA_KEYS},
        message=summary.get(MESSAGE_KEY),
        user=summary.get(USER_KEY),
        run_id=summary.get(RUN_KEY),
        input=summary.get(INPUT_KEY),
        rows_written=int(summary.get("added-records", 0)) if "total-records" in summary else None,
    )
