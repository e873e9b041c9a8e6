"""Schema evolution is the same on Delta and Iceberg: after a merge of the schema adds a
nullable column, data without it is appended with nulls there (as Spark does); a missing
non-nullable column, nulls in one, or a type that cannot be cast are refused by name."""

from __future__ import annotations

import pyarrow as pa
import pytest

from strata import Workspace
from strata.errors import TableError
from tabledata import deliveries, sorted_rows

FORMATS = ["delta", "iceberg"]


@pytest.fixture(params=FORMATS)
def evolved(request: pytest.FixtureRequest, make_workspace: object) -> Workspace:
    """A workspace whose ``deliveries`` table gained a nullable ``driver`` column."""
    ws: Workspace = make_workspace(git=False)  # type: ignore[operator]
    ws.tables.create("deliveries", deliveries(range(2)), format=request.param)
    with_driver = deliveries(range(2, 3)).append_column("driver", pa.array(["ann"]))
    ws.table("deliveries").append(with_driver, merge_schema=True)
    return ws


def test_data_without_an_added_nullable_column_gets_nulls(evolved: Workspace) -> None:
    table = evolved.table("deliveries")
    table.append(deliveries(range(3, 5)))
    rows = sorted_rows(table.to_arrow())
    assert [(r["id"], r["driver"]) for r in rows] == [
        (0, None),
        (1, None),
        (2, "ann"),
        (3, None),
        (4, None),
    ]


def test_data_in_another_column_order_is_appended_by_name(evolved: Workspace) -> None:
    table = evolved.table("deliveries")
    shuffled = deliveries(range(3, 4)).select(["delay_min", "id", "weather"])
    table.append(shuffled.append_column("driver", pa.array(["bo"])))
    assert sorted_rows(table.to_arrow())[-1] == {
        "id": 3,
        "weather": "sun",
        "delay_min": 4.0,
        "driver": "bo",
    }


def test_a_narrower_type_is_widened_to_the_tables(evolved: Workspace) -> None:
    table = evolved.table("deliveries")
    narrow = deliveries(range(3, 4)).set_column(0, "id", pa.array([3], pa.int32()))
    table.append(narrow)
    assert table.to_arrow().schema.field("id").type == pa.int64()


@pytest.mark.parametrize("format_", FORMATS)
def test_a_missing_non_nullable_column_is_refused_by_name(
    make_workspace: object, format_: str
) -> None:
    ws: Workspace = make_workspace(git=False)  # type: ignore[operator]
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), ("weather", pa.string())])
    ws.tables.create("strict", schema=schema, format=format_)
    table = ws.table("strict")
    before = table.latest_version()
    with pytest.raises(TableError, match=r"column 'id' of table strict \(int64, not nullable\)"):
        table.append(pa.table({"weather": ["sun"]}))
    with pytest.raises(TableError, match=r"(?i)column 'id'.* n(ot |on-)nullable"):
        table.append(pa.table({"id": pa.array([1, None], pa.int64()), "weather": ["a", "b"]}))
    assert table.latest_version() == before


@pytest.mark.parametrize("format_", FORMATS)
def test_a_type_that_cannot_be_cast_is_refused_naming_both_types(
    make_workspace: object, format_: str
) -> None:
    ws: Workspace = make_workspace(git=False)  # type: ignore[operator]
    ws.tables.create("deliveries", deliveries(range(2)), format=format_)
    retyped = deliveries(range(2, 3)).set_column(0, "id", pa.array(["x"]))
    with pytest.raises(TableError, match=r"column 'id' of table deliveries is int64, .* string"):
        ws.table("deliveries").append(retyped)
