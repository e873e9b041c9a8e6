"""CSV and JSON Lines input is read with the table's schema: values are parsed as the table's
types (not guessed), columns are matched by name, and a value that does not parse is named by
column and row, with nothing written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from factories import Cli, assert_one_line_error, snapshot
from strata import Workspace
from strata.errors import UserInputError

FORMATS = ["delta", "iceberg"]
SCHEMA = pa.schema(
    [
        ("delivery_id", pa.int64()),
        ("day", pa.date32()),
        ("zip", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("delay_min", pa.float64()),
    ]
)


@pytest.fixture(params=FORMATS)
def ws(request: pytest.FixtureRequest, make_workspace: object) -> Workspace:
    """A workspace with an empty ``deliveries`` table of SCHEMA."""
    workspace: Workspace = make_workspace(git=False)  # type: ignore[operator]
    workspace.tables.create("deliveries", schema=SCHEMA, format=request.param)
    return workspace


def _rows(ws: Workspace) -> list[dict[str, object]]:
    data = ws.table("deliveries").to_arrow()
    assert data.schema.names == SCHEMA.names
    return sorted(data.to_pylist(), key=lambda row: str(row["delivery_id"]))


def test_a_csv_is_appended_with_the_tables_types(ws: Workspace, cli: Cli) -> None:
    (ws.root / "october.csv").write_text(
        "delay_min,day,delivery_id,zip,at\n"
        "5,2024-10-01,1,01234,2024-10-01T10:00:00Z\n"
        ",2024-10-02,2,00501,2024-10-02 11:30:00\n"
    )
    out = cli("table", "append", "deliveries", "october.csv", "-m", "october", cwd=ws.root)
    assert out.code == 0, out.stderr
    utc = dt.UTC
    assert _rows(ws) == [
        {
            "delivery_id": 1,
            "day": dt.date(2024, 10, 1),
            "zip": "01234",
            "at": dt.datetime(2024, 10, 1, 10, 0, tzinfo=utc),
            "delay_min": 5.0,
        },
        {
            "delivery_id": 2,
            "day": dt.date(2024, 10, 2),
            "zip": "00501",
            "at": dt.datetime(2024, 10, 2, 11, 30, tzinfo=utc),
            "delay_min": None,
        },
    ]


def test_json_lines_are_appended_with_the_tables_types(ws: Workspace) -> None:
    path = ws.root / "october.jsonl"
    path.write_text(
        '{"delivery_id": 1, "day": "2024-10-01", "zip": "01234", "delay_min": 5}\n'
        '{"delivery_id": 2, "day": "2024-10-02", "zip": "99999", "delay_min": 2.5}\n'
    )
    ws.table("deliveries").append(path)
    assert [(r["day"], r["zip"], r["delay_min"], r["at"]) for r in _rows(ws)] == [
        (dt.date(2024, 10, 1), "01234", 5.0, None),
        (dt.date(2024, 10, 2), "99999", 2.5, None),
    ]


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        (
            "bad.csv",
            "delivery_id,day\n1,2024-10-01\n2,2024-10-01\n3,2024-13-45\n",
            "row 3 of column 'day' has '2024-13-45', which is not a date32[day]",
        ),
        (
            "bad.csv",
            "delivery_id,day\n1,2024-10-01\nseven,2024-10-01\n",
            "row 2 of column 'delivery_id' has 'seven', which is not a int64",
        ),
        (
            "bad.jsonl",
            '{"delivery_id": 1, "day": "2024-10-01"}\n{"delivery_id": 2, "day": "soon"}\n',
            "row 2 of column 'day' has 'soon', which is not a date32[day]",
        ),
        (
            "bad.jsonl",
            '{"delivery_id": 1.5, "day": "2024-10-01"}\n',
            "row 1 of column 'delivery_id' has 1.5, which is not a int64",
        ),
    ],
)
def test_a_value_that_does_not_parse_is_named_and_nothing_is_written(
    ws: Workspace, cli: Cli, name: str, text: str, fragment: str
) -> None:
    path: Path = ws.root / name
    path.write_text(text)
    before = snapshot(ws.root)
    out = cli("table", "append", "deliveries", name, cwd=ws.root)
    assert_one_line_error(out, UserInputError.exit_code, f"cannot read {name}", fragment)
    assert snapshot(ws.root) == before
