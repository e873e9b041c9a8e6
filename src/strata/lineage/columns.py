"""Column-level lineage: which columns of which versions an output column was computed from,
as OpenLineage's ``columnLineage`` dataset facet says (Spark, dbt and Flink send it).

A column of a version is a node ``column:REF#FIELD`` (``column:table:deliveries@4#delay_min``)
with ``column`` edges to the columns computed from it. Column nodes are linked to nothing else:
the version a column belongs to is in its ref, so ``strata lineage`` of a table is unchanged.

``strata impact table:deliveries@4#delay_min`` follows those edges to the columns, hence the
versions, that used the column, then what is downstream of those versions (runs, models,
deployments) as the impact of a version finds it, except through a version whose own column
lineage was recorded: there the column edges alone say whether the column went on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import sqlalchemy as sa

from strata.errors import LineageError
from strata.lineage import analysis, store
from strata.lineage.analysis import Affected, Impact
from strata.lineage.graph import walk
from strata.meta.schema import lineage_nodes

if TYPE_CHECKING:
    from strata.lineage.protocols import LineageView

COLUMN = "column"
Resolve = Callable[[Mapping[str, Any]], str]
"""An event's dataset (namespace, name, facets) → its ref."""


def column_ref(data_ref: str, field: str) -> str:
    """``column:REF#FIELD``; a ``#`` or ``%`` in the field is percent-encoded."""
    return f"{COLUMN}:{data_ref}#{quote(field, safe='')}"


def data_of(column: str) -> tuple[str, str]:
    """(the data ref, the field) of a ``column:REF#FIELD`` node."""
    data_ref, _, field = column.removeprefix(f"{COLUMN}:").rpartition("#")
    return data_ref, unquote(field)


def split_column(text: str) -> tuple[str, str | None]:
    """``table:deliveries@4#delay_min`` → (``table:deliveries@4``, ``delay_min``); a ref
    naming no column → (it, None). The column is what follows the last ``#``, when that holds
    no ``/`` or ``@`` (a dataset name with a ``#`` in its last part is read as a column)."""
    base, sep, field = text.rpartition("#")
    if not sep or not base or not field or "/" in field or "@" in field:
        return text, None
    return base, unquote(field)


def edges(event: Mapping[str, Any], resolve: Resolve) -> list[tuple[str, str, str]]:
    """The column edges of an event's outputs' ``columnLineage`` facets: each input field to
    the output field computed from it."""
    found: list[tuple[str, str, str]] = []
    known = {
        (str(i["namespace"]), str(i["name"])): i for i in event.get("inputs") or []
    }  # an input field's dataset is one of the inputs, with its version facet, as a rule
    for output in event.get("outputs") or []:
        facet = (output.get("facets") or {}).get("columnLineage") or {}
        fields = facet.get("fields") if isinstance(facet, dict) else None
        if not isinstance(fields, dict) or not fields or facet.get("_deleted") is True:
            continue  # none, or a facet the producer deleted (not validated: anything goes)
        target = resolve(output)
        for name, spec in fields.items():
            for source in spec.get("inputFields") or []:
                key = (str(source["namespace"]), str(source["name"]))
                data = resolve(known.get(key) or {"namespace": key[0], "name": key[1]})
                found.append((column_ref(data, source["field"]), column_ref(target, name), COLUMN))
    return found


def column_impact(lineage: LineageView, text: str, field: str, *, depth: int = 1000) -> Impact:
    """What used column ``field`` of ``text`` (a version or a range), as events said: the
    versions holding columns computed from it, then everything downstream of those."""
    starts = [column_ref(ref, field) for ref in analysis.roots(lineage, text)]
    with lineage.db.transaction("cannot read lineage", write=False) as connection:
        if not any(store.node_exists(connection, s) for s in starts):
            raise LineageError(
                f"no OpenLineage event's columnLineage names column {field!r} of {text}",
                hint="impact of the whole version: leave out #COLUMN",
            )
        reached = walk(connection, starts, direction="downstream", depth=depth)
    paths = {c: p for c, p in reached.paths("downstream").items() if c not in starts}
    used: dict[str, list[str]] = {}  # data ref → the column path that reaches it first
    columns: dict[str, list[str]] = {}
    for column, path in sorted(paths.items(), key=lambda item: (len(item[1]), item[0])):
        data_ref, name = data_of(column)
        used.setdefault(data_ref, path)
        columns.setdefault(data_ref, []).append(name)
    affected = [
        Affected(ref, ref.partition(":")[0], path, {"columns": columns[ref]})
        for ref, path in used.items()
    ]
    after = analysis.impact_of(lineage, list(used), depth=depth)
    steps = {step for item in after.affected for step in item.path[1:]} - used.keys()
    precise = _with_column_lineage(lineage, steps)
    seen = set(used)
    for item in after.affected:
        if item.ref in seen or any(step in precise for step in item.path[1:]):
            continue  # reached through a version whose columns say where this one went
        seen.add(item.ref)
        affected.append(Affected(item.ref, item.kind, used[item.path[0]] + item.path, item.details))
    return Impact(starts, affected)


def _with_column_lineage(lineage: LineageView, refs: set[str]) -> set[str]:
    """The data versions among ``refs`` that events gave column lineage for."""
    data = sorted(r for r in refs if r.partition(":")[0] in analysis.DATA_KINDS)
    c = lineage_nodes.c
    found: set[str] = set()
    with lineage.db.transaction("cannot read lineage", write=False) as connection:
        for ref in data:
            query = sa.select(c.id).where(
                c.kind == COLUMN, c.ref.startswith(f"{COLUMN}:{ref}#", autoescape=True)
            )
            if connection.execute(query.limit(1)).first() is not None:
                found.add(ref)
    return found
