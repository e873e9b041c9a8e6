"""The Delta Lake implementation of ``Table``, on ``deltalake`` (delta-rs).

Every deltalake and Arrow error is translated here (``_translating``), nowhere else.

Pinned versions survive maintenance because:
- no commit Strata makes runs delta-rs's own expired-log clean-up (and the tables Strata
  creates turn it off, ``delta.enableExpiredLogCleanup = false``); Strata cleans logs itself
  in ``checkpoint``, only below a checkpoint that every pinned version can be read from;
- pinning a version writes a checkpoint at that version, so it never needs older log entries;
- ``vacuum`` passes the pinned versions to delta-rs as ``keep_versions``: their files stay.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, PostCommitHookProperties, write_deltalake
from deltalake.exceptions import (
    CommitFailedError,
    DeltaError,
    SchemaMismatchError,
)
from deltalake.exceptions import TableNotFoundError as DeltaTableNotFound

from strata.errors import (
    TableConflictError,
    TableError,
    TableVersionNotFoundError,
    UserInputError,
)
from strata.tables.base import Table
from strata.tables.delta_history import commit_of
from strata.tables.delta_stats import stats_from_actions
from strata.tables.error_text import first_line
from strata.tables.records import Commit, VacuumResult, WriteMode, WriteResult
from strata.tables.schemas import check_compatible, conform, quote
from strata.tables.stats import TableStats
from strata.tables.unreadable import version_gone

if TYPE_CHECKING:
    from deltalake.table import TableMerger

# delta-rs's automatic clean-up would drop log entries a pinned version needs: tables Strata
# creates have it off, and no commit Strata makes runs it (registered tables keep their own
# configuration, for the engines that write them).
STRATA_CONFIGURATION = {"delta.enableExpiredLogCleanup": "false"}
KEEP_LOGS = PostCommitHookProperties(cleanup_expired_logs=False)
MERGE_ATTEMPTS = 3
_LOG_FILE = re.compile(r"(\d{20})\.(json|crc|checkpoint(?:\.\d+\.\d+)?\.parquet)$")
_MISSING_FILE = re.compile(r"Object at location .* not found")
_PREDICATE_ERRORS = ("sql parser error", "ParserError", "No field named", "Schema error")


@contextmanager
def _translating(action: str, name: str) -> Iterator[None]:
    try:
        yield
    except CommitFailedError as exc:
        raise TableConflictError(
            f"cannot {action} table {name}: a concurrent commit conflicts ({first_line(exc)})"
        ) from exc
    except SchemaMismatchError as exc:
        raise TableError(
            f"cannot {action} table {name}: the data's schema does not match ({first_line(exc)})",
            hint="pass --merge-schema to add new columns, or overwrite with --overwrite-schema",
        ) from exc
    except DeltaTableNotFound as exc:
        raise TableError(
            f"cannot {action} table {name}: no Delta table there ({first_line(exc)})",
            hint="check its location with `strata table list`",
        ) from exc
    except DeltaError as exc:
        text = str(exc)
        if any(marker in text for marker in _PREDICATE_ERRORS):
            detail = text.split("error:")[-1].strip().splitlines()[0]
            raise UserInputError(
                f"cannot {action} table {name}: bad predicate or expression ({detail})",
                hint="write SQL, e.g. \"delay_min > 10 AND weather = 'snow'\"",
            ) from exc
        raise TableError(f"cannot {action} table {name}: {first_line(exc)}") from exc
    except (pa.ArrowException, OSError) as exc:
        raise TableError(f"cannot {action} table {name}: {first_line(exc)}") from exc


def create_table(
    location: str,
    name: str,
    rows: pa.Table | None,
    schema: pa.Schema | None,
    partition_by: Sequence[str],
    meta: dict[str, str],
) -> None:
    """Write version 0 at ``location``: the rows given, or an empty table of ``schema``."""
    with _translating("create", name):
        if rows is None:
            assert schema is not None
            DeltaTable.create(
                location,
                schema,
                partition_by=list(partition_by) or None,
                name=name,
                configuration=STRATA_CONFIGURATION,
                commit_properties=CommitProperties(custom_metadata=meta),
                post_commithook_properties=KEEP_LOGS,
            )
        else:
            write_deltalake(
                location,
                rows,
                mode="error",
                partition_by=list(partition_by) or None,
                name=name,
                configuration=STRATA_CONFIGURATION,
                commit_properties=CommitProperties(custom_metadata=meta),
                post_commithook_properties=KEEP_LOGS,
            )


def check_table(location: str, name: str) -> None:
    """Check that an existing Delta table opens; registering it changes nothing in it."""
    with _translating("register", name):
        DeltaTable(location)


class DeltaLakeTable(Table):
    format = "delta"
    # The snapshot last opened at an exact version or made by a commit, so that resolving,
    # reading and recording stats of one version load its log once.
    _recent: DeltaTable | None = None

    def _open(self, version: int | None = None) -> DeltaTable:
        recent = self._recent
        if version is not None and recent is not None and recent.version() == version:
            return recent
        with _translating("open", self.name):
            try:
                dt = DeltaTable(self.location, version=version)
            except DeltaError:  # a missing version is a plain DeltaError, a cleaned one not
                if version is None:
                    raise
                dt = None
        if dt is None:
            assert version is not None
            latest = self.latest_version()
            if version > latest or version < 0:
                raise TableVersionNotFoundError(
                    f"table {self.name} has no version {version} (latest is {latest})"
                )
            raise self._gone(version, "its log entries were cleaned up")
        if version is not None:
            self._recent = dt
        return dt

    def _gone(self, version: int, why: str) -> TableVersionNotFoundError:
        """The error for a version whose files or log entries are gone, naming those left."""
        from strata.tables.delta_readable import readable_versions

        with _translating("list the readable versions of", self.name):
            history = [c.version for c in self._commits()]
            readable = readable_versions(self.location, history, self.pinned_versions())
        return version_gone(self.name, version, why, readable)

    def _made(self, dt: DeltaTable, operation: str, metrics: dict[str, Any]) -> WriteResult:
        """The result of a commit ``dt`` just made (kept for the stats of that version)."""
        self._recent = dt
        return WriteResult(self.name, dt.version(), operation, metrics)

    def _made_unless_unmatched(
        self, dt: DeltaTable, before: int, operation: str, metrics: dict[str, Any]
    ) -> WriteResult:
        """The result of a delete or update: delta-rs commits no version when the predicate
        matches no row (there is no file to remove or add), so ``dt`` staying at ``before``
        says nothing matched. That is why no count is run first: it would scan the table
        once more, and could disagree with the write if another writer committed between."""
        if dt.version() == before:
            return WriteResult(self.name, before, operation, metrics, committed=False)
        return self._made(dt, operation, metrics)

    # -- versions -----------------------------------------------------------------------------
    def latest_version(self) -> int:
        return self._open().version()

    def _commits(self, limit: int | None = None) -> list[Commit]:
        with _translating("read the history of", self.name):
            entries = self._open().history(limit)
        return [commit_of(entry) for entry in entries]

    def _check_version(self, version: int) -> None:
        self._open(version)

    def _schema(self) -> pa.Schema:
        with _translating("read the schema of", self.name):
            return pa.schema(self._open().schema().to_arrow())

    # -- reads --------------------------------------------------------------------------------
    def _read(
        self, version: int, columns: Sequence[str] | None, where: str | None, limit: int | None
    ) -> pa.Table:
        dt = self._open(version)
        try:
            with _translating("read", self.name):
                schema = pa.schema(dt.schema().to_arrow())
                wanted = _check_columns(self.name, schema, columns)
                return _query(dt, schema, wanted, where, limit)
        except Exception as exc:  # DataFusion reports a missing file as a plain Exception
            if not _MISSING_FILE.search(str(exc)):
                raise
            raise self._gone(version, "it was vacuumed (its data files are gone)") from exc

    # -- writes -------------------------------------------------------------------------------
    def _write(
        self,
        rows: pa.Table,
        mode: WriteMode,
        merge_schema: bool,
        overwrite_schema: bool,
        meta: dict[str, str],
    ) -> WriteResult:
        dt = self._open()
        if not overwrite_schema:
            schema = pa.schema(dt.schema().to_arrow())
            check_compatible(self.name, schema, rows.schema, merge_schema)
            rows = conform(self.name, rows, schema)
        schema_mode: Literal["merge", "overwrite"] | None = (
            "overwrite" if overwrite_schema else "merge" if merge_schema else None
        )
        props = CommitProperties(custom_metadata=meta)
        with _translating(mode, self.name):
            write_deltalake(
                dt,
                rows,
                mode=mode,
                schema_mode=schema_mode,
                commit_properties=props,
                post_commithook_properties=KEEP_LOGS,
            )
            return self._made(dt, mode.upper(), {"rows": rows.num_rows})

    def _merge(
        self,
        rows: pa.Table,
        on: list[str],
        update: list[str],
        delete_when: str | None,
        meta: dict[str, str],
    ) -> WriteResult:
        schema = pa.schema(self._open().schema().to_arrow())
        missing = [k for k in on if k not in schema.names]
        if missing:
            raise UserInputError(
                f"merge key {', '.join(missing)} is not a column of table {self.name}",
                hint="name key columns that both the table and the source have",
            )
        unknown = [c for c in update if c not in rows.column_names or c not in schema.names]
        if unknown:
            raise UserInputError(
                f"--update column {', '.join(unknown)} is not in both the table and the source"
            )
        # Source columns the table lacks are allowed: predicates like --delete-when use them.
        check_compatible(self.name, schema, rows.schema, merge_schema=True)
        for attempt in range(1, MERGE_ATTEMPTS + 1):
            dt = self._open()
            try:
                with _translating("merge into", self.name):
                    metrics = _merger(dt, rows, on, update, delete_when, meta).execute()
                    return self._made(dt, "MERGE", metrics)
            except TableConflictError:
                if attempt == MERGE_ATTEMPTS:
                    raise
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    def _delete(self, where: str, meta: dict[str, str]) -> WriteResult:
        dt = self._open()
        before = dt.version()
        with _translating("delete from", self.name):
            metrics = dt.delete(
                where,
                commit_properties=CommitProperties(custom_metadata=meta),
                post_commithook_properties=KEEP_LOGS,
            )
            return self._made_unless_unmatched(dt, before, "DELETE", metrics)

    def _update(self, set_: dict[str, str], where: str | None, meta: dict[str, str]) -> WriteResult:
        dt = self._open()
        schema = pa.schema(dt.schema().to_arrow())
        unknown = [c for c in set_ if c not in schema.names]
        if unknown:
            raise UserInputError(
                f"table {self.name} has no column {', '.join(unknown)}",
                hint=f"its columns: {', '.join(schema.names)}",
            )
        before = dt.version()
        with _translating("update", self.name):
            metrics = dt.update(
                {quote(c): e for c, e in set_.items()},
                predicate=where,
                commit_properties=CommitProperties(custom_metadata=meta),
                post_commithook_properties=KEEP_LOGS,
            )
            return self._made_unless_unmatched(dt, before, "UPDATE", metrics)

    def _restore(self, version: int, meta: dict[str, str]) -> WriteResult:
        dt = self._open()
        if not 0 <= version <= dt.version():
            raise TableVersionNotFoundError(
                f"table {self.name} has no version {version} (latest is {dt.version()})"
            )
        if version == dt.version():
            raise UserInputError(
                f"table {self.name} is at version {version} already", hint="nothing to restore"
            )
        with _translating("restore", self.name):
            metrics = dt.restore(
                version,
                commit_properties=CommitProperties(custom_metadata=meta),
                post_commithook_properties=KEEP_LOGS,
            )
            return self._made(dt, "RESTORE", metrics)

    # -- metadata -----------------------------------------------------------------------------
    def _stats(self, version: int) -> TableStats:
        dt = self._open(version)
        with _translating("read the stats of", self.name):
            schema = pa.schema(dt.schema().to_arrow())
            actions = pa.table(dt.get_add_actions(flatten=True))
        return stats_from_actions(self.name, version, schema, actions)

    def files(self, version: int) -> dict[str, int]:
        dt = self._open(version)
        with _translating("list the files of", self.name):
            actions = pa.table(dt.get_add_actions(flatten=True))
        return dict(
            zip(actions["path"].to_pylist(), actions["size_bytes"].to_pylist(), strict=True)
        )

    # -- maintenance --------------------------------------------------------------------------
    def optimize(self, *, zorder: Sequence[str] = (), message: str | None = None) -> WriteResult:
        dt = self._open()
        before = dt.version()
        props = CommitProperties(custom_metadata=self._meta(message))
        with _translating("optimize", self.name):
            if zorder:
                _check_columns(self.name, pa.schema(dt.schema().to_arrow()), zorder)
                metrics = dt.optimize.z_order(
                    list(zorder), commit_properties=props, post_commithook_properties=KEEP_LOGS
                )
            else:
                metrics = dt.optimize.compact(
                    commit_properties=props, post_commithook_properties=KEEP_LOGS
                )
            if dt.version() == before:  # already compact: delta-rs commits nothing
                return WriteResult(self.name, before, "OPTIMIZE", metrics, committed=False)
            result = self._made(dt, "OPTIMIZE", metrics)
        return self._committed(result)

    def vacuum(self, *, retain_hours: float = 168, dry_run: bool = False) -> VacuumResult:
        dt = self._open()
        pins = self.pinned_versions()
        with _translating("vacuum", self.name):
            removed = dt.vacuum(
                retention_hours=math.ceil(retain_hours),
                dry_run=dry_run,
                enforce_retention_duration=False,
                keep_versions=pins or None,
                commit_properties=CommitProperties(custom_metadata=self._meta(None)),
                post_commithook_properties=KEEP_LOGS,
            )
        return VacuumResult(self.name, dry_run, tuple(sorted(removed)), tuple(pins))

    def checkpoint(self, *, clean_logs: bool = False, log_retain_hours: float = 720) -> int:
        dt = self._open()
        with _translating("checkpoint", self.name):
            dt.create_checkpoint()
            if clean_logs:
                self._clean_logs(dt, log_retain_hours)
        return dt.version()

    def _clean_logs(self, dt: DeltaTable, retain_hours: float) -> None:
        """Delete log entries older than the retention, below the newest checkpoint from
        which every pinned version and every version inside the retention stays readable."""
        import fsspec

        cutoff = datetime.now(UTC).timestamp() - retain_hours * 3600
        expired = [c.version for c in self._commits() if c.timestamp.timestamp() < cutoff]
        if not expired:
            return
        bound = min([max(expired), *self.pinned_versions()])
        fs, root = fsspec.core.url_to_fs(self.location)
        log = f"{root.rstrip('/')}/_delta_log"
        entries = {path: _LOG_FILE.search(path) for path in fs.ls(log, detail=False)}
        checkpoints = [int(m[1]) for m in entries.values() if m and m[2].startswith("checkpoint")]
        keep_from = max((c for c in checkpoints if c <= bound), default=None)
        if keep_from is None:
            return
        doomed = sorted(p for p, m in entries.items() if m and int(m[1]) < keep_from)
        for path in doomed:  # oldest first: a crash leaves a shorter, still readable log
            fs.rm_file(path)

    def protect(self, version: int) -> None:
        """Write a checkpoint at a pinned version, so it never needs older log entries."""
        self._check_version(version)
        with _translating("pin a version of", self.name):
            self._open(version).create_checkpoint()

    def unprotect(self, version: int) -> None:
        return None  # the extra checkpoint is harmless; log clean-up may remove it later


def _check_columns(name: str, schema: pa.Schema, columns: Sequence[str] | None) -> list[str] | None:
    if columns is None:
        return None
    unknown = [c for c in columns if c not in schema.names]
    if unknown:
        raise UserInputError(
            f"table {name} has no column {', '.join(unknown)}",
            hint=f"its columns: {', '.join(schema.names)}",
        )
    return list(columns)


def _query(
    dt: DeltaTable,
    schema: pa.Schema,
    columns: list[str] | None,
    where: str | None,
    limit: int | None,
) -> pa.Table:
    """Read with SQL (DataFusion, the engine delta-rs uses for delete and update too).

    Not through ``to_pyarrow_dataset``: its filesystem is a Python object that Arrow's I/O
    threads call into, and those threads outlive the read, so the interpreter crashes or
    hangs at exit once a table has a few dozen files."""
    from deltalake import QueryBuilder

    names = columns if columns is not None else schema.names
    projection = ", ".join(quote(c) for c in names) or "*"
    sql = f"SELECT {projection} FROM t"
    if where is not None:
        sql += f" WHERE {where}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    reader = QueryBuilder().register("t", dt).execute(sql)
    result = pa.table(reader.read_all())
    wanted = pa.schema([schema.field(n) for n in names])
    return result.cast(wanted)


def _merger(
    dt: DeltaTable,
    rows: pa.Table,
    on: list[str],
    update: list[str],
    delete_when: str | None,
    meta: dict[str, str],
) -> TableMerger:
    predicate = " AND ".join(f"target.{quote(k)} = source.{quote(k)}" for k in on)
    merger = dt.merge(
        rows,
        predicate=predicate,
        source_alias="source",
        target_alias="target",
        commit_properties=CommitProperties(custom_metadata=meta),
        post_commithook_properties=KEEP_LOGS,
    )
    if delete_when:
        merger = merger.when_matched_delete(predicate=delete_when)
    if update:
        merger = merger.when_matched_update({quote(c): f"source.{quote(c)}" for c in update})
    else:
        merger = merger.when_matched_update_all()
    return merger.when_not_matched_insert_all()
