"""The ``Table`` interface every format implements, and the values it returns.

A ``Table`` is one catalogued table on one open format. Public methods here do what is common
to every format — resolving selectors, reporting reads and writes to the activity seam,
recording per-version stats in the catalog — and call the format's ``_``-methods, which are
the only ones a format implements. A format that cannot do something raises
UnsupportedByFormatError naming the format that can.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from strata.activity import Activity
from strata.errors import TableVersionNotFoundError, UnsupportedByFormatError, UserInputError
from strata.tables.inputs import read_input
from strata.tables.records import (
    MESSAGE_KEY,
    RUN_KEY,
    USER_KEY,
    Commit,
    Format,
    TableInfo,
    VacuumResult,
    WriteMode,
    WriteResult,
)

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow as pa

    from strata.tables.stats import TableStats


class Hooks:
    """What a table needs from the catalog: pins, stored stats, the activity seam, and who
    acts (named in every commit)."""

    def __init__(
        self,
        activity: Callable[[], Activity],
        pinned_versions: Callable[[], list[int]],
        stored_stats: Callable[[int], TableStats | None],
        store_stats: Callable[[TableStats], None],
        db_url: str,
        user: Callable[[], str],
    ) -> None:
        self.activity = activity
        self.user = user
        self.db_url = db_url  # Iceberg's SQL catalog lives in the metadata database
        self.pinned_versions = pinned_versions
        self.stored_stats = stored_stats
        self.store_stats = store_stats


def commit_metadata(activity: Activity, message: str | None, user: str) -> dict[str, str]:
    """The custom metadata Strata writes into every commit it makes."""
    meta = {USER_KEY: user}
    run = activity.run_id()
    if run:
        meta[RUN_KEY] = run
    if message:
        meta[MESSAGE_KEY] = message
    return meta


def as_utc(moment: datetime) -> datetime:
    """A naive timestamp means UTC (selectors carry no zone unless written with one)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class TableVersion:
    """One exact version of a table, for reading: ``ws.table("t").at(47).to_arrow()``."""

    def __init__(self, table: Table, version: int) -> None:
        self.table = table
        self.version = version

    @property
    def ref(self) -> str:
        return f"table:{self.table.name}@{self.version}"

    def __repr__(self) -> str:
        return f"TableVersion({self.ref!r})"

    def to_arrow(
        self,
        *,
        columns: Sequence[str] | None = None,
        where: str | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        """The rows of this version; ``where`` is a SQL predicate (``delay_min > 10``)."""
        if limit is not None and limit < 0:
            raise UserInputError(f"bad limit {limit}", hint="give a number of rows, 0 or more")
        data = self.table._read(self.version, columns, where, limit)
        self.table.hooks.activity().read(self.ref)
        return data

    def to_pandas(self, **options: Any) -> pandas.DataFrame:
        return self.to_arrow(**options).to_pandas()

    def to_polars(self, **options: Any) -> polars.DataFrame:
        import polars as pl

        frame = pl.from_arrow(self.to_arrow(**options))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def stats(self) -> TableStats:
        return self.table.stats(self.version)


class Table(ABC):
    """A catalogued table on one open format."""

    format: Format

    def __init__(self, info: TableInfo, hooks: Hooks) -> None:
        self.info = info
        self.hooks = hooks

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def location(self) -> str:
        return self.info.location

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.location!r})"

    # -- versions -----------------------------------------------------------------------------
    @abstractmethod
    def latest_version(self) -> int: ...

    @abstractmethod
    def _commits(self, limit: int | None = None) -> list[Commit]:
        """The commits still in the table's log (the newest ``limit``), newest first, without
        row counts."""

    def _latest_commit(self) -> Commit | None:
        return next(iter(self._commits(1)), None)

    def _named_version(self, name: str) -> int | None:
        """The version a tag or branch name points at; formats without refs have none."""
        return None

    def snapshot_version(self, snapshot_id: int) -> int | None:
        """The version an Iceberg snapshot id names (what Spark's OpenLineage events give as
        an Iceberg table's version); formats without snapshot ids have none."""
        return None

    def resolve(self, selector: int | datetime | str | None = None) -> int:
        """The exact version a selector names: a number, an instant, a tag, or None (latest)."""
        if selector is None or (isinstance(selector, str) and selector.lower() == "latest"):
            return self.latest_version()
        if isinstance(selector, datetime):
            return self._version_at(as_utc(selector))
        if isinstance(selector, str):
            version = self._named_version(selector)
            if version is None:
                raise TableVersionNotFoundError(
                    f"{self.format} table {self.name} has no tag or branch {selector!r}",
                    hint="name a version number or a timestamp (tags and branches are Iceberg's)",
                )
            return version
        self._check_version(selector)
        return selector

    @abstractmethod
    def _check_version(self, version: int) -> None:
        """Raise TableVersionNotFoundError unless ``version`` exists and is readable."""

    def _version_at(self, moment: datetime) -> int:
        commits = [c for c in self._commits() if c.timestamp <= moment]
        if not commits:
            first = min(c.timestamp for c in self._commits())
            raise TableVersionNotFoundError(
                f"table {self.name} did not exist yet at {moment.isoformat()} "
                f"(its first version is from {first.isoformat()})",
                hint="name a later time, or a version number",
            )
        return max(c.version for c in commits)

    def at(self, selector: int | datetime | str | None = None) -> TableVersion:
        return TableVersion(self, self.resolve(selector))

    def to_arrow(self, **options: Any) -> pa.Table:
        """The latest version's rows (see ``TableVersion.to_arrow``)."""
        return self.at().to_arrow(**options)

    def history(self, limit: int | None = None) -> list[Commit]:
        """Commits newest first, each with the row count after it (from the catalog's stats)."""
        commits = self._commits(limit) if limit else self._commits()
        return [replace(c, row_count=self._row_count(c.version)) for c in commits]

    def _row_count(self, version: int) -> int | None:
        try:
            return self.stats(version).row_count
        except TableVersionNotFoundError:
            return None  # its log or files are gone (written by another tool, then cleaned)

    # -- writes -------------------------------------------------------------------------------
    def _committed(self, result: WriteResult) -> WriteResult:
        # Stats are stored on first use (stats, history, diff, pin), not here: computing and
        # storing them at every commit would cost appends 20-30% over plain delta-rs.
        if result.committed:
            self.hooks.activity().wrote(result.ref)
        return result

    def _meta(self, message: str | None) -> dict[str, str]:
        return commit_metadata(self.hooks.activity(), message, self.hooks.user())

    def write(
        self,
        data: object,
        *,
        mode: WriteMode = "append",
        merge_schema: bool = False,
        overwrite_schema: bool = False,
        message: str | None = None,
        allow_duplicate: bool = False,
    ) -> WriteResult:
        """Append or overwrite rows (a file path, pyarrow, pandas or polars data). Writing the
        same file again right after it was written (a rerun) commits nothing, unless
        ``allow_duplicate``; the result then names the earlier commit, ``committed`` False."""
        from strata.tables.retry import INPUT_KEY, input_key, is_rerun

        if overwrite_schema and mode != "overwrite":
            raise UserInputError(
                "--overwrite-schema replaces the table's schema, which only an overwrite can do",
                hint="use `strata table overwrite ... --overwrite-schema`, or --merge-schema",
            )
        if overwrite_schema and merge_schema:
            raise UserInputError("give --merge-schema or --overwrite-schema, not both")
        meta, key = self._meta(message), None if allow_duplicate else input_key(data, mode)
        if key is not None:
            latest = self._latest_commit()
            if latest is not None and is_rerun(latest, key, meta[USER_KEY]):
                return WriteResult(self.name, latest.version, latest.operation, committed=False)
            meta[INPUT_KEY] = key
        rows = self._rows(data)
        return self._committed(self._write(rows, mode, merge_schema, overwrite_schema, meta))

    def append(self, data: object, **options: Any) -> WriteResult:
        return self.write(data, mode="append", **options)

    def overwrite(self, data: object, **options: Any) -> WriteResult:
        return self.write(data, mode="overwrite", **options)

    def merge(
        self,
        data: object,
        *,
        on: Sequence[str],
        update: Sequence[str] | None = None,
        delete_when: str | None = None,
        message: str | None = None,
    ) -> WriteResult:
        """Upsert in one commit: rows matching on the key columns are updated (all columns, or
        ``update``), the others inserted; matched rows where ``delete_when`` holds are
        deleted. In predicates, ``source.COL`` is the incoming row, ``target.COL`` the table's."""
        rows = self._rows(data)
        keys = [k for k in on if k]
        if not keys:
            raise UserInputError("merge needs key columns", hint="give --on KEY[,KEY]")
        missing = [k for k in keys if k not in rows.column_names]
        if missing:
            raise UserInputError(
                f"merge key {', '.join(missing)} is not a column of the source data "
                f"(its columns: {', '.join(rows.column_names)})",
                hint="name key columns that both the table and the source have",
            )
        return self._committed(
            self._merge(rows, keys, list(update or []), delete_when, self._meta(message))
        )

    def _rows(self, data: object) -> pa.Table:
        return read_input(data, self._schema)  # CSV and JSON are parsed as the table's types

    def delete(self, where: str, *, message: str | None = None) -> WriteResult:
        """Delete the rows where the SQL predicate holds."""
        if not where.strip():
            raise UserInputError("delete needs a predicate", hint='give --where "COL = VALUE"')
        return self._committed(self._delete(where, self._meta(message)))

    def update(
        self, set_: Mapping[str, str], *, where: str | None = None, message: str | None = None
    ) -> WriteResult:
        """Set columns to SQL expressions on the rows where ``where`` holds (all if None)."""
        if not set_:
            raise UserInputError("update needs --set COL=EXPR")
        return self._committed(self._update(dict(set_), where, self._meta(message)))

    def restore(self, version: int | datetime | str, *, message: str | None = None) -> WriteResult:
        """A new commit whose data is that of an old version (no data copied)."""
        # A version number is checked by the format as it restores (one log load, not two).
        target = version if isinstance(version, int) else self.resolve(version)
        return self._committed(self._restore(target, self._meta(message)))

    # -- stats --------------------------------------------------------------------------------
    def stats(self, selector: int | datetime | str | None = None) -> TableStats:
        """Schema, counts and per-column stats from the table's metadata (no data scan), stored
        in the catalog when first asked for (they never change, and outlive a vacuum)."""
        version = self.resolve(selector) if not isinstance(selector, int) else selector
        stored = self.hooks.stored_stats(version)
        if stored is not None:
            return stored
        computed = self._stats(version)
        self.hooks.store_stats(computed)
        return computed

    # -- maintenance --------------------------------------------------------------------------
    def pinned_versions(self) -> list[int]:
        return sorted(set(self.hooks.pinned_versions()))

    # -- what each format implements ----------------------------------------------------------
    @abstractmethod
    def _schema(self) -> pa.Schema: ...

    @abstractmethod
    def _read(
        self, version: int, columns: Sequence[str] | None, where: str | None, limit: int | None
    ) -> pa.Table: ...

    @abstractmethod
    def _write(
        self,
        rows: pa.Table,
        mode: WriteMode,
        merge_schema: bool,
        overwrite_schema: bool,
        meta: dict[str, str],
    ) -> WriteResult: ...

    @abstractmethod
    def _merge(
        self,
        rows: pa.Table,
        on: list[str],
        update: list[str],
        delete_when: str | None,
        meta: dict[str, str],
    ) -> WriteResult: ...

    @abstractmethod
    def _delete(self, where: str, meta: dict[str, str]) -> WriteResult: ...

    @abstractmethod
    def _update(
        self, set_: dict[str, str], where: str | None, meta: dict[str, str]
    ) -> WriteResult: ...

    @abstractmethod
    def _restore(self, version: int, meta: dict[str, str]) -> WriteResult: ...

    @abstractmethod
    def _stats(self, version: int) -> TableStats: ...

    @abstractmethod
    def files(self, version: int) -> dict[str, int]:
        """Data files of a version: path → size in bytes."""

    @abstractmethod
    def optimize(
        self, *, zorder: Sequence[str] = (), message: str | None = None
    ) -> WriteResult: ...

    @abstractmethod
    def vacuum(self, *, retain_hours: float = 168, dry_run: bool = False) -> VacuumResult: ...

    @abstractmethod
    def checkpoint(self, *, clean_logs: bool = False, log_retain_hours: float = 720) -> int:
        """Checkpoint the latest version, and drop expired log entries no pin needs if asked."""

    @abstractmethod
    def protect(self, version: int) -> None:
        """Make ``version`` survive maintenance (called when it is pinned)."""

    @abstractmethod
    def unprotect(self, version: int) -> None:
        """Undo ``protect`` once no pin holds ``version`` any more."""

    def partition(
        self, *, add: str | None = None, transform: str = "identity", remove: str | None = None
    ) -> WriteResult:
        raise self._unsupported("partition evolution")

    def tag(self, version: int, name: str) -> None:
        raise self._unsupported("tags")

    def branch(self, name: str, version: int | None = None) -> None:
        raise self._unsupported("branches")

    def _unsupported(self, what: str) -> UnsupportedByFormatError:
        return UnsupportedByFormatError(
            f"{self.format} table {self.name} cannot do {what}",
            hint="Iceberg tables can: create one with `strata table create NAME --format iceberg`",
        )
