"""What changed between two versions of a table.

Without a key: schema changes, row count and per-column stats changes (from the catalog's
stored stats, no data scan) and the data files added and removed. With a key: row-level
counts of rows added, removed and changed, and a sample of each, computed with Arrow joins
(vectorised; no Python loop over rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strata.errors import UserInputError

if TYPE_CHECKING:
    import pyarrow as pa

    from strata.tables.base import Table

SAMPLE_ROWS = 5
_OLD, _NEW = "\x00old", "\x00new"


@dataclass(frozen=True, slots=True)
class RowChanges:
    key: tuple[str, ...]
    added: int
    removed: int
    changed: int
    changed_by_column: dict[str, int]
    sample_added: list[dict[str, Any]]
    sample_removed: list[dict[str, Any]]
    sample_changed: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": list(self.key),
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "changed_by_column": self.changed_by_column,
            "sample": {
                "added": self.sample_added,
                "removed": self.sample_removed,
                "changed": self.sample_changed,
            },
        }


@dataclass(frozen=True, slots=True)
class TableDiff:
    table: str
    old_version: int
    new_version: int
    columns_added: list[dict[str, str]]
    columns_removed: list[dict[str, str]]
    columns_retyped: list[dict[str, str]]
    row_count: tuple[int, int]
    column_stats: dict[str, dict[str, Any]]
    files_added: list[str]
    files_removed: list[str]
    rows: RowChanges | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "old": self.old_version,
            "new": self.new_version,
            "schema": {
                "added": self.columns_added,
                "removed": self.columns_removed,
                "changed_type": self.columns_retyped,
            },
            "row_count": {"old": self.row_count[0], "new": self.row_count[1]},
            "column_stats": self.column_stats,
            "files": {"added": self.files_added, "removed": self.files_removed},
            "rows": None if self.rows is None else self.rows.to_dict(),
        }


def diff_versions(old: tuple[Table, int], new: tuple[Table, int], *, key: list[str]) -> TableDiff:
    table, a = old
    other, b = new
    if table.name != other.name:
        raise UserInputError(
            f"cannot diff table {table.name} with table {other.name}",
            hint="compare two versions of one table: table:NAME@A table:NAME@B",
        )
    sa, sb = table.stats(a), table.stats(b)
    types_a = {f.name: f.type for f in sa.schema}
    types_b = {f.name: f.type for f in sb.schema}
    stats_changes: dict[str, dict[str, Any]] = {}
    for name in types_a.keys() & types_b.keys():
        before, after = sa.columns.get(name), sb.columns.get(name)
        if before is not None and after is not None and before != after:
            stats_changes[name] = {"old": before.to_dict(), "new": after.to_dict()}
    files_a, files_b = table.files(a), table.files(b)
    rows = _row_changes(table, a, b, key) if key else None
    return TableDiff(
        table=table.name,
        old_version=a,
        new_version=b,
        columns_added=[{"name": n, "type": t} for n, t in types_b.items() if n not in types_a],
        columns_removed=[{"name": n, "type": t} for n, t in types_a.items() if n not in types_b],
        columns_retyped=[
            {"name": n, "old": types_a[n], "new": types_b[n]}
            for n in types_a
            if n in types_b and types_a[n] != types_b[n]
        ],
        row_count=(sa.row_count, sb.row_count),
        column_stats=dict(sorted(stats_changes.items())),
        files_added=sorted(files_b.keys() - files_a.keys()),
        files_removed=sorted(files_a.keys() - files_b.keys()),
        rows=rows,
    )


def _row_changes(table: Table, a: int, b: int, key: list[str]) -> RowChanges:
    import pyarrow.compute as pc

    old, new = table.at(a).to_arrow(), table.at(b).to_arrow()
    for version, data in ((a, old), (b, new)):
        missing = [k for k in key if k not in data.column_names]
        if missing:
            raise UserInputError(
                f"version {version} of table {table.name} has no column {', '.join(missing)}",
                hint="give --key columns that both versions have",
            )
    old_rows, new_rows = _match_keys(old, new, key)
    added = new.take(pc.drop_null(new_rows.filter(pc.is_null(old_rows))))
    removed = old.take(pc.drop_null(old_rows.filter(pc.is_null(new_rows))))
    both = pc.and_(pc.is_valid(old_rows), pc.is_valid(new_rows))
    old_both, new_both = old_rows.filter(both), new_rows.filter(both)
    shared = [c for c in old.column_names if c in new.column_names and c not in key]
    changed_masks: dict[str, pa.ChunkedArray] = {}
    for column in shared:
        before = old[column].take(old_both)
        after = new[column].take(new_both)
        if after.type != before.type:
            after = after.cast(before.type)
        changed_masks[column] = _differs(before, after)
    any_changed = pc.equal(old_both, -1)  # all False, one per matched key
    for mask in changed_masks.values():
        any_changed = pc.or_(any_changed, mask)
    changed_old = old.take(old_both.filter(any_changed))
    changed_new = new.take(new_both.filter(any_changed))
    return RowChanges(
        key=tuple(key),
        added=added.num_rows,
        removed=removed.num_rows,
        changed=changed_old.num_rows,
        changed_by_column={
            c: n for c, m in changed_masks.items() if (n := int(pc.sum(m).as_py() or 0))
        },
        sample_added=_sample(added),
        sample_removed=_sample(removed),
        sample_changed=_changed_sample(changed_old, changed_new, key, shared),
    )


def _match_keys(
    old: pa.Table, new: pa.Table, key: list[str]
) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """One full outer join of the key columns only: for every key, its row number in the old
    version and in the new one (null where the key is missing on that side)."""

    left = old.select(key).append_column(_OLD, _row_numbers(old))
    right = new.select(key).append_column(_NEW, _row_numbers(new))
    for name in key:
        if right.schema.field(name).type != left.schema.field(name).type:
            index = right.schema.get_field_index(name)
            right = right.set_column(index, name, right[name].cast(left.schema.field(name).type))
    joined = left.join(right, key, join_type="full outer")
    return joined[_OLD], joined[_NEW]


def _row_numbers(data: pa.Table) -> pa.Array:
    """0 … num_rows-1, computed in Arrow (no Python loop)."""
    import pyarrow.compute as pc

    column = data.column(0)
    every_row = pc.or_(pc.is_valid(column), pc.is_null(column))
    numbers: pa.Array = pc.indices_nonzero(every_row).cast("int64")
    return numbers


def _differs(before: pa.ChunkedArray, after: pa.ChunkedArray) -> pa.ChunkedArray:
    """True where the values differ; a null on one side only counts as a difference."""
    import pyarrow.compute as pc

    one_null = pc.xor(pc.is_null(before), pc.is_null(after))
    unequal = pc.fill_null(pc.not_equal(before, after), False)
    result: pa.ChunkedArray = pc.or_(one_null, unequal)
    return result


def _sample(rows: pa.Table) -> list[dict[str, Any]]:
    from strata.tables.stats import json_value

    return [
        {k: json_value(v) for k, v in row.items()} for row in rows.slice(0, SAMPLE_ROWS).to_pylist()
    ]


def _changed_sample(
    old: pa.Table, new: pa.Table, key: list[str], shared: list[str]
) -> list[dict[str, Any]]:
    from strata.tables.stats import json_value

    sample = []
    befores = old.slice(0, SAMPLE_ROWS).to_pylist()
    afters = new.slice(0, SAMPLE_ROWS).to_pylist()
    for before, after in zip(befores, afters, strict=True):
        changes = {
            c: {"old": json_value(before[c]), "new": json_value(after[c])}
            for c in shared
            if before[c] != after[c]
        }
        sample.append({"key": {k: json_value(before[k]) for k in key}, "changes": changes})
    return sample
