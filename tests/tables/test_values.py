"""Property tests for the small parsers and serialisers of the tables package."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strata.cli.table_options import hours as _hours
from strata.errors import UserInputError
from strata.tables.inputs import parse_schema
from strata.tables.stats import ColumnStats, Field, TableStats

names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
types = st.sampled_from(["int64", "int32", "string", "double", "bool", "date", "decimal(10, 2)"])
scalars = st.none() | st.integers(-(2**53), 2**53) | st.text(max_size=8) | st.booleans()


@given(st.dictionaries(names, types, min_size=1, max_size=6))
def test_a_schema_text_gives_those_columns(columns: dict[str, str]) -> None:
    text = ",".join(f"{name}:{type_}" for name, type_ in columns.items())
    schema = parse_schema(text)
    assert schema.names == list(columns)


@given(
    st.dictionaries(names, st.tuples(st.none() | st.integers(0, 10**9), scalars, scalars)),
    st.integers(0, 2**62),
)
def test_stats_survive_a_json_round_trip(
    columns: dict[str, tuple[int | None, object, object]], version: int
) -> None:
    stats = TableStats(
        table="deliveries",
        version=version,
        row_count=7,
        file_count=2,
        size_bytes=1024,
        schema=tuple(Field(name, "int64") for name in columns),
        columns={name: ColumnStats(*values) for name, values in columns.items()},
    )
    assert TableStats.from_dict(json.loads(json.dumps(stats.to_dict()))) == stats


@given(st.integers(0, 10_000), st.sampled_from(["s", "m", "h", "d", "w", ""]))
def test_durations(amount: int, unit: str) -> None:
    hours = {"s": 1 / 3600, "m": 1 / 60, "h": 1, "": 1, "d": 24, "w": 168}[unit]
    assert _hours(f"{amount}{unit}") == pytest.approx(amount * hours)


@pytest.mark.parametrize("text", ["", "soon", "-1h", "1y", "h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UserInputError):
        _hours(text)
