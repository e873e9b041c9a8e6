"""Helpers for the lineage tests: row counts, and fake providers for what other capabilities
will provide (see FakeDescriber)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from strata import Workspace
from strata.refs import Ref, format_ref

LINEAGE_TABLES = (
    "lineage_runs",
    "lineage_nodes",
    "lineage_edges",
    "lineage_feature_sets",
    "lineage_deployments",
)


def row_counts(ws: Workspace) -> dict[str, int]:
    """Rows in each lineage table: what "nothing was written" is checked against."""
    engine = sa.create_engine(ws.db.url)
    try:
        with engine.connect() as connection:
            return {
                name: connection.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
                for name in LINEAGE_TABLES
            }
    finally:
        engine.dispose()


class FakeDescriber:
    """Stands in for the table catalog and model registry, which lineage may not import; the
    workspace wires the real ones through the same interface (``strata.recovery.links``)."""

    def __init__(self, known: dict[str, dict[str, Any]]) -> None:
        self.known = known

    def describe(self, ref: Ref) -> dict[str, Any] | None:
        return self.known.get(format_ref(ref))


def fake_resolver(mapping: dict[str, str]) -> Callable[[Ref], Ref | None]:
    """A resolver for ``table:x@latest`` and ``model:m@production``, like the catalog's."""
    from strata.refs import parse_ref

    def resolve(ref: Ref) -> Ref | None:
        found = mapping.get(format_ref(ref))
        return None if found is None else parse_ref(found)

    return resolve


def wire(ws: Workspace, **parts: Any) -> Workspace:
    """Plug fake providers into ``ws.lineage`` (what the workspace does with the real ones)."""
    lineage = ws.lineage
    for name, value in parts.items():
        if name == "describers":
            lineage.describer.describers = list(value)
        elif name == "resolver":
            previous = lineage.resolver

            def chained(ref: Ref, first: Any = value, second: Any = previous) -> Ref | None:
                return first(ref) or (second(ref) if second else None)

            lineage.resolver = chained
        else:
            setattr(lineage, name, value)
    return ws


def spec_dir() -> Path:
    return Path(__file__).parent / "lineage" / "spec"
