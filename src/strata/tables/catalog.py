"""The table catalog: which tables exist, on which format, where; their pins and stats.

    catalog = ws.tables
    catalog.create("deliveries", "deliveries.parquet", partition_by=["day"])
    catalog.open("deliveries").at(47).to_arrow()
    catalog.pin("deliveries", 47, by="model:delay-classifier@3")

Rows live in the metadata database (``table_catalog``, ``table_pins``, ``table_stats``); the
tables themselves at their location: ``<tables.root>/<name>`` by default, or any URI.
"""

from __future__ import annotations

import builtins
import copy
import shutil
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from strata.activity import Activity
from strata.errors import (
    TableError,
    TableExistsError,
    TableNotFoundError,
    TablePinnedError,
    UnsupportedByFormatError,
    UserInputError,
)
from strata.scm import user_identity
from strata.tables.base import Hooks, Table, commit_metadata
from strata.tables.records import FORMATS, Format, Pin, TableInfo

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.partitioning import PartitionSpec
    from pyiceberg.schema import Schema as IceSchema
    from pyiceberg.table.sorting import SortOrder

    from strata.meta import MetadataDB
    from strata.refs import Ref
    from strata.tables.diff import TableDiff
    from strata.tables.iceberg_commits import Committed, TableChange
    from strata.tables.stats import TableStats

MANUAL_PIN = "manual"
_GITIGNORE = "# Table data: versioned by `strata table`, not by git.\n*\n!.gitignore\n"


def _now() -> datetime:
    return datetime.now(UTC)


def check_name(name: str) -> None:
    from strata.refs import Ref, parse_ref

    if parse_ref(f"table:{name}", expect="table") != Ref("table", name):
        raise UserInputError(f"bad table name {name!r}", hint="name it without '@'")


def _is_uri(text: str) -> bool:
    return "://" in text


class TableCatalog:
    def __init__(
        self,
        db: MetadataDB,
        workspace_root: Path,
        tables_root: str,
        activity: Callable[[], Activity],
    ) -> None:
        self.db = db
        self.workspace_root = workspace_root
        self.tables_root = tables_root or "tables"
        self.activity = activity
        self._user: str | None = None  # set by acting_as

    @property
    def user(self) -> str:
        """Who the commits this catalog makes name."""
        return self._user if self._user is not None else self._own_identity

    @cached_property
    def _own_identity(self) -> str:
        return user_identity(self.workspace_root)

    def acting_as(self, user: str) -> TableCatalog:
        """This catalog, its commits naming ``user``: what a server hands each request. The
        copy shares the database; this catalog is left as it is."""
        acting = copy.copy(self)
        acting._user = user
        return acting

    # -- the catalog --------------------------------------------------------------------------
    def list(self) -> builtins.list[TableInfo]:
        from strata.tables import rows

        with self.db.transaction("cannot list tables", write=False) as connection:
            return rows.all_tables(connection)

    def info(self, name: str) -> TableInfo:
        from strata.tables import rows

        with self.db.transaction(f"cannot read table {name}", write=False) as connection:
            found = rows.get(connection, name)
        if found is None:
            raise TableNotFoundError(f"no table named {name!r} in the catalog")
        return found

    def open(self, name: str) -> Table:
        info = self.info(name)
        return self._implementation(info.format)(info, self._hooks(name))

    def rows_written(self, name: str, version: int) -> int | None:
        """Rows the commit that made ``version`` wrote (not the table's total), when known."""
        commits = self.open(name)._commits()
        return next((c.rows_written for c in commits if c.version == version), None)

    def snapshot_version(self, name: str, snapshot_id: int) -> int | None:
        """The version of table ``name`` that Iceberg snapshot ``snapshot_id`` is (None for a
        Delta table, or a snapshot the table does not keep)."""
        return self.open(name).snapshot_version(snapshot_id)

    def default_location(self, name: str) -> str:
        if _is_uri(self.tables_root):
            return f"{self.tables_root.rstrip('/')}/{name}"
        root = Path(self.tables_root).expanduser()
        return str((root if root.is_absolute() else self.workspace_root / root) / name)

    def in_root(self, location: str) -> bool:
        """Whether ``location`` is inside the table root: where a location that came over the
        network may point (never elsewhere on the server's disks or buckets)."""
        root, target = self.default_location(""), self._absolute(location)
        if _is_uri(root):
            return target.startswith(root) and "/../" not in f"{target}/"
        inside, top = Path(target).resolve(), Path(root).resolve()
        return inside != top and inside.is_relative_to(top)

    def create(
        self,
        name: str,
        data: object | None = None,
        *,
        schema: pa.Schema | str | None = None,
        format: Format = "delta",
        partition_by: Sequence[str] = (),
        location: str | None = None,
        message: str | None = None,
    ) -> Table:
        """A new table with ``data`` (a file path or frame) as version 0, or empty with
        ``schema`` (pyarrow, or text like ``id:int64,name:string``)."""
        from strata.tables.inputs import parse_schema, read_input

        check_name(name)
        if format not in FORMATS:
            raise UserInputError(f"unknown table format {format!r}", hint="use delta or iceberg")
        if (data is None) == (schema is None):
            raise UserInputError(
                f"cannot create table {name}: give either data or a schema",
                hint="pass --from FILE or --schema 'id:int64,name:string'",
            )
        self._refuse_existing(name)
        rows = None if data is None else read_input(data)
        arrow_schema = parse_schema(schema) if isinstance(schema, str) else schema
        columns = rows.column_names if rows is not None else arrow_schema.names  # type: ignore[union-attr]
        missing = [c for c in partition_by if c not in columns]
        if missing:
            raise UserInputError(
                f"cannot partition table {name} by {', '.join(missing)}: no such column",
                hint=f"its columns: {', '.join(columns)}",
            )
        target = self._location(name, location)
        self._refuse_occupied(name, target)
        meta = commit_metadata(self.activity(), message or f"create {name}", self.user)
        info = TableInfo(name, format, target, "created", _now())
        if format == "delta":
            from strata.tables import delta

            delta.create_table(target, name, rows, arrow_schema, partition_by, meta)
        else:
            from strata.tables import iceberg_catalog

            iceberg_catalog.create_table(
                self.db.url, target, name, rows, arrow_schema, partition_by, meta
            )
        self._insert(info)
        table = self.open(name)
        self.activity().wrote(f"table:{name}@{table.latest_version()}")
        return table

    def create_iceberg(
        self,
        name: str,
        schema: IceSchema,
        *,
        partition_spec: PartitionSpec | None = None,
        sort_order: SortOrder | None = None,
        properties: dict[str, str] | None = None,
        location: str | None = None,
    ) -> Table:
        """An empty Iceberg table from Iceberg's own schema, spec and order (what an Iceberg
        client creates); it has no version until its first commit."""
        from strata.tables import iceberg_catalog

        check_name(name)
        self._refuse_existing(name)
        target = self._location(name, location)
        self._refuse_occupied(name, target)
        iceberg_catalog.create_empty(
            self.db.url, target, name, schema, partition_spec, sort_order, properties or {}
        )
        try:
            self._insert(TableInfo(name, "iceberg", target, "created", _now()))
        except BaseException:
            iceberg_catalog.drop_table(self.db.url, target, name)
            raise
        return self.open(name)

    def commit_iceberg(self, changes: Sequence[TableChange]) -> builtins.list[Committed]:
        """Commit Iceberg updates under requirements to one or more Iceberg tables, all or
        nothing, each new snapshot naming this catalog's user (see ``iceberg_commits``)."""
        from strata.tables.iceberg_commits import commit_changes

        for change in changes:
            if self.info(change.name).format != "iceberg":
                raise UnsupportedByFormatError(f"table {change.name} is not an Iceberg table")
        meta = commit_metadata(self.activity(), None, self.user)
        pins = {change.name: self.pins(change.name) for change in changes}
        done = commit_changes(self.db.url, changes, meta, pins)
        for table in done:
            if table.version is not None:
                self.activity().wrote(f"table:{table.name}@{table.version}")
        return done

    def rename(self, name: str, new: str) -> TableInfo:
        """Give a table another name; refused while a version is pinned (the pins name it)."""
        from strata.tables import rows

        check_name(new)
        info = self.info(name)
        self._refuse_existing(new)
        if self.pins(name):
            raise TablePinnedError(
                f"cannot rename table {name}: its pinned versions are named by it",
                hint="unpin them first with `strata table unpin`",
            )
        with self.db.transaction(f"cannot rename table {name}", write=True) as connection:
            rows.rename(connection, name, new)
        if info.format == "iceberg":  # pyiceberg's own connection: after ours has committed
            from strata.tables import iceberg_catalog

            try:
                iceberg_catalog.rename_table(self.db.url, name, new)
            except BaseException:
                with self.db.transaction(f"cannot rename {new} back", write=True) as connection:
                    rows.rename(connection, new, name)
                raise
        return self.info(new)

    def register(
        self,
        name: str,
        location: str,
        *,
        format: Format | None = None,
        metadata: str | None = None,
    ) -> Table:
        """Add an existing Delta or Iceberg table (not made by Strata) to the catalog; an
        Iceberg table at its ``metadata`` file if given, else at its newest one."""
        check_name(name)
        self._refuse_existing(name)
        target = self._absolute(location)
        found = format or self._detect(target)
        if found is None:
            raise TableError(
                f"no Delta or Iceberg table at {target}",
                hint="give the folder that holds _delta_log/ or metadata/",
            )
        if found == "delta":
            from strata.tables import delta

            delta.check_table(target, name)
        else:
            from strata.tables import iceberg_catalog

            iceberg_catalog.register_table(self.db.url, target, name, metadata)
        self._insert(TableInfo(name, found, target, "registered", _now()))
        return self.open(name)

    def drop(self, name: str, *, force: bool = False, keep_files: bool = False) -> TableInfo:
        """Remove a table from the catalog, and its files when Strata created it (unless
        ``keep_files``). Refused while any version is pinned."""
        from strata.tables import rows

        info = self.info(name)
        pinned = self.pins(name)
        if pinned:
            holders = ", ".join(f"{p.pinned_by} (version {p.version})" for p in pinned)
            raise TablePinnedError(
                f"cannot drop table {name}: pinned by {holders}",
                hint="unpin those versions first with `strata table unpin`",
            )
        if not force:
            raise UserInputError(
                f"dropping table {name} deletes it and its data at {info.location}",
                hint="pass --force to drop it",
            )
        with self.db.transaction(f"cannot drop table {name}", write=True) as connection:
            rows.delete(connection, name)
        if info.format == "iceberg":  # pyiceberg's own connection: after ours has committed
            from strata.tables import iceberg_catalog

            iceberg_catalog.drop_table(self.db.url, info.location, name)
        if info.origin == "created" and not keep_files:
            _remove_tree(info.location)
        return info

    # -- pins ---------------------------------------------------------------------------------
    def pin(self, name: str, version: int, by: str = MANUAL_PIN) -> Pin:
        """Keep ``version`` readable through vacuum, compaction and log clean-up, for ``by``
        (a model version, a release, or ``manual``)."""
        from strata.tables import rows

        table = self.open(name)
        table.stats(version)  # checks the version exists, and records what it held
        table.protect(version)
        now = _now()
        with self.db.transaction(f"cannot pin table {name}", write=True) as connection:
            rows.add_pin(connection, name, version, by, now)
        return Pin(name, version, by, now)

    def unpin(self, name: str, version: int, by: str | None = MANUAL_PIN) -> int:
        """Remove the pin of ``version`` by ``by`` (every pin of it when None); how many."""
        from strata.tables import rows

        table = self.open(name)
        with self.db.transaction(f"cannot unpin table {name}", write=True) as connection:
            removed = rows.remove_pins(connection, name, version, by)
        if removed == 0:
            who = "anyone" if by is None else by
            raise TableError(
                f"version {version} of table {name} is not pinned by {who}",
                hint="see the pins with `strata table pins NAME`",
            )
        if version not in table.pinned_versions():
            table.unprotect(version)
        return removed

    def pins(self, name: str | None = None) -> builtins.list[Pin]:
        from strata.tables import rows

        with self.db.transaction("cannot read table pins", write=False) as connection:
            return rows.pins(connection, name)

    # -- comparing ----------------------------------------------------------------------------
    def diff(self, a: Ref | str, b: Ref | str, *, key: Sequence[str] = ()) -> TableDiff:
        from strata.tables.diff import diff_versions

        old, new = self.version_of(a), self.version_of(b)
        return diff_versions(old, new, key=list(key))

    def version_of(self, ref: Ref | str) -> tuple[Table, int]:
        """The table and exact version a ``table:NAME@SELECTOR`` ref names."""
        from strata.refs import Alias, Latest, Ref, Timestamp, Version, parse_ref

        parsed = parse_ref(ref, expect="table") if isinstance(ref, str) else ref
        assert isinstance(parsed, Ref)
        table = self.open(parsed.name)
        selector = parsed.selector
        if selector is None or isinstance(selector, Latest):
            return table, table.latest_version()
        if isinstance(selector, Version):
            return table, table.resolve(selector.number)
        if isinstance(selector, Timestamp):
            return table, table.resolve(selector.value)
        if isinstance(selector, Alias):
            return table, table.resolve(selector.name)
        raise UserInputError(
            f"{parsed} names a range of versions; name one version",
            hint="write table:NAME@47 or table:NAME@2024-09-30T23:59:59",
        )

    def read_data(self, source: str) -> pa.Table:
        """``table:NAME@V`` at that version, or a Parquet, CSV or JSON Lines file, as Arrow."""
        if source.startswith("table:"):
            table, version = self.version_of(source)
            return table.at(version).to_arrow()
        from strata.tables.inputs import read_file

        return read_file(Path(source))

    # -- helpers ------------------------------------------------------------------------------
    def _hooks(self, name: str) -> Hooks:
        return Hooks(
            activity=self.activity,
            pinned_versions=lambda: [p.version for p in self.pins(name)],
            stored_stats=lambda version: self._stored_stats(name, version),
            store_stats=self._store_stats,
            db_url=self.db.url,
            user=lambda: self.user,
        )

    def _stored_stats(self, name: str, version: int) -> TableStats | None:
        from strata.tables import rows

        with self.db.transaction(f"cannot read stats of {name}", write=False) as connection:
            return rows.get_stats(connection, name, version)

    def _store_stats(self, stats: TableStats) -> None:
        from strata.tables import rows

        with self.db.transaction(f"cannot store stats of {stats.table}", write=True) as conn:
            rows.put_stats(conn, stats, _now())

    def _insert(self, info: TableInfo) -> None:
        from strata.tables import rows

        with self.db.transaction(f"cannot add table {info.name}", write=True) as connection:
            rows.insert(connection, info)

    def _refuse_existing(self, name: str) -> None:
        from strata.tables import rows

        with self.db.transaction(f"cannot read table {name}", write=False) as connection:
            existing = rows.get(connection, name)
        if existing is not None:
            raise TableExistsError(
                f"table {name} exists already ({existing.format}, at {existing.location})",
                hint="pick another name, or drop it first with `strata table drop --force`",
            )

    def _refuse_occupied(self, name: str, location: str) -> None:
        found = self._detect(location)
        if found is not None:
            raise TableExistsError(
                f"cannot create table {name}: a {found} table exists at {location}",
                hint=f"add it with `strata table register {name} {location}`",
            )

    def _location(self, name: str, location: str | None) -> str:
        if location is not None:
            return self._absolute(location)
        target = self.default_location(name)
        if not _is_uri(target):
            root = Path(target).parent
            root.mkdir(parents=True, exist_ok=True)
            ignore = root / ".gitignore"
            if root.is_relative_to(self.workspace_root) and not ignore.exists():
                ignore.write_text(_GITIGNORE, encoding="utf-8")
        return target

    @staticmethod
    def _absolute(location: str) -> str:
        if _is_uri(location):
            return location.removeprefix("file://") if location.startswith("file://") else location
        return str(Path(location).expanduser().resolve())

    @staticmethod
    def _detect(location: str) -> Format | None:
        import fsspec

        fs, root = fsspec.core.url_to_fs(location)
        root = root.rstrip("/")
        if fs.isdir(f"{root}/_delta_log"):
            return "delta"
        if fs.isdir(f"{root}/metadata") and fs.glob(f"{root}/metadata/*.metadata.json"):
            return "iceberg"
        return None

    @staticmethod
    def _implementation(format: Format) -> type[Table]:
        if format == "delta":
            from strata.tables.delta import DeltaLakeTable

            return DeltaLakeTable
        from strata.tables.iceberg import IcebergTable

        return IcebergTable


def _remove_tree(location: str) -> None:
    if not _is_uri(location):
        shutil.rmtree(location, ignore_errors=True)
        return
    import fsspec

    fs, root = fsspec.core.url_to_fs(location)
    if fs.exists(root):
        fs.rm(root, recursive=True)
