"""The Apache Iceberg implementation of ``Table``, on ``pyiceberg`` with its SQL catalog in
Strata's own metadata database (see ``iceberg_catalog``, which also translates every pyiceberg
error, through ``translating``).

Versions are Iceberg snapshot sequence numbers (1, 2, …; a merge may commit several snapshots
in one atomic metadata commit).

Pinned versions survive maintenance because pinning tags the snapshot (``strata-pin-N``):
expiring snapshots skips tagged ones, and ``vacuum`` deletes only data files that no remaining
snapshot references.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyiceberg.expressions import AlwaysTrue

from strata.errors import (
    TableError,
    UnsupportedByFormatError,
    UserInputError,
)
from strata.tables.base import Table
from strata.tables.iceberg_catalog import (
    conform,
    hinted_metadata,
    identifier,
    retrying,
    sql_catalog,
    translating,
)
from strata.tables.iceberg_snapshots import (
    committed_version,
    file_entries,
    history,
    schema_of,
    sequence,
    snapshot_at,
    unborn,
    version_of_snapshot,
)
from strata.tables.iceberg_values import label_of, stats_from_manifests, transform_of
from strata.tables.records import (
    Commit,
    VacuumResult,
    WriteMode,
    WriteResult,
)
from strata.tables.schemas import check_compatible

if TYPE_CHECKING:
    from pyiceberg.table import Table as IceTable

    from strata.tables.stats import TableStats

PIN_TAG = "strata-pin-{version}"


class IcebergTable(Table):
    format = "iceberg"

    def _load(self) -> IceTable:
        with translating("open", self.name):
            return sql_catalog(self.hooks.db_url).load_table(identifier(self.name))

    def iceberg(self) -> IceTable:
        """pyiceberg's own table, as the catalog has it now (what an Iceberg client loads)."""
        return self._load()

    # -- versions -----------------------------------------------------------------------------
    def latest_version(self) -> int:
        current = self._load().current_snapshot()
        return 0 if current is None else sequence(current)

    def snapshot_version(self, snapshot_id: int) -> int | None:
        return version_of_snapshot(self._load(), snapshot_id)

    def _commits(self, limit: int | None = None) -> list[Commit]:
        return history(self._load())[:limit]

    def _check_version(self, version: int) -> None:
        table = self._load()
        if not unborn(table, version):
            snapshot_at(table, self.name, version)

    def _named_version(self, name: str) -> int | None:
        table = self._load()
        ref = table.metadata.refs.get(name)
        if ref is None:
            return None
        snapshot = table.snapshot_by_id(ref.snapshot_id)
        return None if snapshot is None else sequence(snapshot)

    def _schema(self) -> pa.Schema:
        return self._load().schema().as_arrow()

    # -- reads --------------------------------------------------------------------------------
    def _read(
        self, version: int, columns: Sequence[str] | None, where: str | None, limit: int | None
    ) -> pa.Table:
        table = self._load()
        snapshot = None if unborn(table, version) else snapshot_at(table, self.name, version)
        schema = table.schema().as_arrow() if snapshot is None else schema_of(table, snapshot)
        if columns is not None:
            unknown = [c for c in columns if c not in schema.names]
            if unknown:
                raise UserInputError(
                    f"table {self.name} has no column {', '.join(unknown)}",
                    hint=f"its columns: {', '.join(schema.names)}",
                )
        if snapshot is None:  # no snapshot yet: no rows
            empty = schema.empty_table()
            return empty if columns is None else empty.select(list(columns))
        with translating("read", self.name):
            scan = table.scan(
                snapshot_id=snapshot.snapshot_id,
                selected_fields=tuple(columns) if columns is not None else ("*",),
                limit=limit,
                row_filter=where if where else AlwaysTrue(),
            )
            return scan.to_arrow()

    # -- writes -------------------------------------------------------------------------------
    def _write(
        self,
        rows: pa.Table,
        mode: WriteMode,
        merge_schema: bool,
        overwrite_schema: bool,
        meta: dict[str, str],
    ) -> WriteResult:
        if overwrite_schema:
            raise UnsupportedByFormatError(
                f"Iceberg table {self.name} cannot replace its schema with incompatible types",
                hint="Iceberg allows adding columns and safe widening only; create a new table",
            )
        check_compatible(self.name, self._load().schema().as_arrow(), rows.schema, merge_schema)

        def commit() -> int:
            table = self._load()
            with table.transaction() as tx:
                if merge_schema:
                    with tx.update_schema() as update:
                        update.union_by_name(rows.schema)
                conformed = conform(rows, tx.table_metadata.schema())
                if mode == "overwrite":
                    tx.overwrite(conformed, snapshot_properties=meta)
                else:
                    tx.append(conformed, snapshot_properties=meta)
            return committed_version(table)

        with translating(mode, self.name):
            version = retrying(commit)
        return WriteResult(self.name, version, mode.upper(), {"rows": rows.num_rows})

    def _merge(
        self,
        rows: pa.Table,
        on: list[str],
        update: list[str],
        delete_when: str | None,
        meta: dict[str, str],
    ) -> WriteResult:
        if update or delete_when:
            raise UnsupportedByFormatError(
                f"Iceberg table {self.name} cannot merge with --update or --delete-when",
                hint="pyiceberg's upsert updates whole rows; Delta tables can do both",
            )
        schema = self._load().schema().as_arrow()
        missing = [k for k in on if k not in schema.names]
        if missing:
            raise UserInputError(
                f"merge key {', '.join(missing)} is not a column of table {self.name}",
                hint="name key columns that both the table and the source have",
            )
        check_compatible(self.name, schema, rows.schema, merge_schema=False)

        def commit() -> tuple[int, dict[str, int]]:
            table = self._load()
            conformed = conform(rows, table.schema())
            result = table.upsert(conformed, join_cols=on, snapshot_properties=meta)
            counts = {"rows_updated": result.rows_updated, "rows_inserted": result.rows_inserted}
            return committed_version(table), counts

        with translating("merge into", self.name):
            version, metrics = retrying(commit)
        return WriteResult(self.name, version, "MERGE", metrics)

    def _delete(self, where: str, meta: dict[str, str]) -> WriteResult:
        with translating("delete from", self.name), warnings.catch_warnings():
            # A predicate that matches nothing deletes nothing (the result says so, below).
            warnings.filterwarnings("ignore", "Delete operation did not match any records")
            version = retrying(lambda: self._delete_in(where, meta))
        if version is None:
            return WriteResult(self.name, self.latest_version(), "DELETE", committed=False)
        return WriteResult(self.name, version, "DELETE")

    def _delete_in(self, where: str, meta: dict[str, str]) -> int | None:
        """The version the delete committed; None when it matched no row (pyiceberg then
        commits no snapshot, and the table's current snapshot stays the one it had)."""
        table = self._load()
        before = table.current_snapshot()
        table.delete(where, snapshot_properties=meta)
        after = table.current_snapshot()
        if after is None or (before is not None and after.snapshot_id == before.snapshot_id):
            return None
        return committed_version(table)

    def _update(self, set_: dict[str, str], where: str | None, meta: dict[str, str]) -> WriteResult:
        """Rewrite the matching rows with the new values: one overwrite of those rows."""
        from strata.tables.assignments import assign

        def commit() -> tuple[int, int]:
            table = self._load()
            matching = where or AlwaysTrue()
            rows = table.scan(row_filter=matching).to_arrow()
            if not rows.num_rows:
                return self.latest_version(), 0
            changed = conform(assign(self.name, rows, set_), table.schema())
            props = {**meta, "strata.operation": "update"}
            table.overwrite(changed, overwrite_filter=matching, snapshot_properties=props)
            return committed_version(table), rows.num_rows

        with translating("update", self.name):
            version, updated = retrying(commit)
        return WriteResult(
            self.name, version, "UPDATE", {"num_updated_rows": updated}, committed=updated > 0
        )

    def _restore(self, version: int, meta: dict[str, str]) -> WriteResult:
        """A new snapshot whose data files are the old version's: metadata only, no copy."""

        table = self._load()
        if schema_of(table, snapshot_at(table, self.name, version)) != table.schema().as_arrow():
            raise UnsupportedByFormatError(
                f"cannot restore Iceberg table {self.name} to version {version}: "
                "its schema differs from the current one",
                hint="export that version and overwrite, or use a Delta table",
            )

        def commit() -> int:
            table = self._load()
            target = snapshot_at(table, self.name, version).snapshot_id
            old = {t.file.file_path: t.file for t in table.scan(snapshot_id=target).plan_files()}
            now = {t.file.file_path: t.file for t in table.scan().plan_files()}
            with table.transaction() as tx:
                props = {**meta, "strata.restored-version": str(version)}
                with tx.update_snapshot(snapshot_properties=props).overwrite() as overwrite:
                    for path, data_file in now.items():
                        if path not in old:
                            overwrite.delete_data_file(data_file)
                    for path, data_file in old.items():
                        if path not in now:
                            overwrite.append_data_file(data_file)
            return committed_version(table)

        with translating("restore", self.name):
            made = retrying(commit)
        return WriteResult(self.name, made, "RESTORE", {"version": version})

    # -- metadata -----------------------------------------------------------------------------
    def _stats(self, version: int) -> TableStats:
        table = self._load()
        if unborn(table, version):
            return stats_from_manifests(self.name, 0, table.schema().as_arrow(), None)
        snapshot = snapshot_at(table, self.name, version)
        schema = schema_of(table, snapshot)
        with translating("read the stats of", self.name):
            files = file_entries(table, snapshot)
        return stats_from_manifests(self.name, version, schema, files)

    def files(self, version: int) -> dict[str, int]:
        table = self._load()
        if unborn(table, version):
            return {}
        snapshot = snapshot_at(table, self.name, version)
        with translating("list the files of", self.name):
            files = file_entries(table, snapshot)
        if files is None:
            return {}
        return dict(
            zip(
                files["file_path"].to_pylist(),
                files["file_size_in_bytes"].to_pylist(),
                strict=True,
            )
        )

    # -- maintenance --------------------------------------------------------------------------
    def optimize(self, *, zorder: Sequence[str] = (), message: str | None = None) -> WriteResult:
        """Compact by rewriting the current rows into new files (one overwrite snapshot)."""
        if zorder:
            raise UnsupportedByFormatError(
                f"Iceberg table {self.name} cannot z-order",
                hint="compact without --zorder, or use a Delta table",
            )
        meta = {**self._meta(message), "strata.operation": "optimize"}

        def commit() -> int | None:
            table = self._load()
            if _compact(table):
                return None
            table.overwrite(table.scan().to_arrow(), snapshot_properties=meta)
            return committed_version(table)

        with translating("optimize", self.name):
            version = retrying(commit)
        if version is None:
            return WriteResult(self.name, self.latest_version(), "OPTIMIZE", committed=False)
        return self._committed(WriteResult(self.name, version, "OPTIMIZE"))

    def vacuum(self, *, retain_hours: float = 168, dry_run: bool = False) -> VacuumResult:
        """Expire snapshots older than the retention (tagged, pinned ones and branch heads are
        kept), then delete the data files no remaining snapshot references."""
        import fsspec

        cutoff = datetime.now(UTC) - timedelta(hours=retain_hours)
        pins = self.pinned_versions()
        with translating("vacuum", self.name):
            table = self._load()
            protected = {ref.snapshot_id for ref in table.metadata.refs.values()}
            expiring = {
                s.snapshot_id
                for s in table.snapshots()
                if s.timestamp_ms < cutoff.timestamp() * 1000 and s.snapshot_id not in protected
            }
            kept = [s for s in table.snapshots() if s.snapshot_id not in expiring]
            needed: set[str] = set()
            for snapshot in kept:
                for task in table.scan(snapshot_id=snapshot.snapshot_id).plan_files():
                    needed.add(_plain(task.file.file_path))
            fs, root = fsspec.core.url_to_fs(self.location)
            data_dir = f"{root.rstrip('/')}/data"
            candidates = [
                path
                for path, info in (
                    fs.find(data_dir, detail=True) if fs.exists(data_dir) else {}
                ).items()
                if _plain(path) not in needed and _mtime(info) < cutoff.timestamp()
            ]
            if not dry_run:
                if expiring:
                    table.maintenance.expire_snapshots().by_ids(list(expiring)).commit()
                for path in candidates:
                    fs.rm_file(path)
        return VacuumResult(self.name, dry_run, tuple(sorted(candidates)), tuple(pins))

    def checkpoint(self, *, clean_logs: bool = False, log_retain_hours: float = 720) -> int:
        """Iceberg writes full metadata with every commit, so there is nothing to checkpoint;
        ``clean_logs`` deletes superseded metadata files older than the retention (time
        travel reads snapshots from the current metadata, not from old files)."""
        import fsspec

        table = self._load()
        if clean_logs:
            cutoff = datetime.now(UTC).timestamp() - log_retain_hours * 3600
            fs, root = fsspec.core.url_to_fs(self.location)
            folder = f"{root.rstrip('/')}/metadata"
            keep = {_plain(table.metadata_location), _plain(hinted_metadata(fs, folder) or "")}
            with translating("clean the metadata of", self.name):
                for path, info in fs.find(folder, detail=True).items():
                    old_metadata = path.endswith(".metadata.json") and _plain(path) not in keep
                    if old_metadata and _mtime(info) < cutoff:
                        fs.rm_file(path)
        return self.latest_version()

    def protect(self, version: int) -> None:
        """Tag the pinned snapshot: expiring snapshots never removes a tagged one."""
        table = self._load()
        if unborn(table, version):
            return  # no snapshot to tag, and no data file that maintenance could remove
        snapshot = snapshot_at(table, self.name, version)
        tag = PIN_TAG.format(version=version)
        if tag not in table.metadata.refs:
            with translating("pin a version of", self.name):
                table.manage_snapshots().create_tag(snapshot.snapshot_id, tag).commit()

    def unprotect(self, version: int) -> None:
        table = self._load()
        tag = PIN_TAG.format(version=version)
        if tag in table.metadata.refs:
            with translating("unpin a version of", self.name):
                table.manage_snapshots().remove_tag(tag).commit()

    # -- Iceberg's own --------------------------------------------------------------------------
    def partition(
        self, *, add: str | None = None, transform: str = "identity", remove: str | None = None
    ) -> WriteResult:
        """Evolve the partition spec; existing files keep their layout and are read with it."""
        table = self._load()
        if add is not None and add not in table.schema().as_arrow().names:
            raise UserInputError(f"table {self.name} has no column {add!r}")
        with translating("change the partitioning of", self.name), table.update_spec() as spec:
            if add is not None:
                spec.add_field(add, transform_of(transform), f"{add}_{label_of(transform)}")
            if remove is not None:
                spec.remove_field(remove)
        return WriteResult(self.name, self.latest_version(), "PARTITION SPEC")

    def tag(self, version: int, name: str) -> None:
        table = self._load()
        snapshot = snapshot_at(table, self.name, version)
        if name in table.metadata.refs:
            raise TableError(f"table {self.name} has a tag or branch {name!r} already")
        with translating("tag", self.name):
            table.manage_snapshots().create_tag(snapshot.snapshot_id, name).commit()

    def branch(self, name: str, version: int | None = None) -> None:
        table = self._load()
        snapshot = snapshot_at(
            table, self.name, version if version is not None else self.latest_version()
        )
        if name in table.metadata.refs:
            raise TableError(f"table {self.name} has a tag or branch {name!r} already")
        with translating("branch", self.name):
            table.manage_snapshots().create_branch(snapshot.snapshot_id, name).commit()


def _compact(table: IceTable) -> bool:
    """Whether the current version has no delete files and one data file per partition at
    most: rewriting it would only copy it."""
    current = table.current_snapshot()
    files = None if current is None else file_entries(table, current)
    if files is None:
        return True
    if any(c != 0 for c in files["content"].to_pylist()):
        return False
    partitions = {repr(p) for p in files["partition"].to_pylist()}
    return bool(files.num_rows <= max(len(partitions), 1))


def _plain(path: str) -> str:
    return path.split("://", 1)[-1]


def _mtime(info: dict[str, Any]) -> float:
    value = info.get("mtime", info.get("LastModified", 0))
    return value.timestamp() if isinstance(value, datetime) else float(value)
