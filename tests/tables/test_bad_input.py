"""Bad input to `strata table`: one clear line on stderr, the right exit code, nothing
written (no new version, no file changed, no catalog row)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from factories import Cli, assert_one_line_error, snapshot
from strata import Workspace
from strata.errors import (
    RefSyntaxError,
    TableError,
    TableNotFoundError,
    TableVersionNotFoundError,
    UnsupportedByFormatError,
    UserInputError,
)
from tabledata import deliveries

FileMaker = Callable[[str, pa.Table], Path]

GOOD = deliveries(range(3))
EXTRA_COLUMN = deliveries(range(3)).append_column("driver", pa.array(["a", "b", "c"]))
RETYPED = pa.table({"id": ["a"], "weather": ["sun"], "delay_min": [1.0]})
NO_KEY = pa.table({"key": [1], "weather": ["sun"], "delay_min": [1.0]})

CASES = [
    # (arguments, the file they read if any, exit code, fragment)
    (["show", "table:deliveries@7"], None, TableVersionNotFoundError, "has no version 7"),
    (
        ["show", "table:deliveries@2001-01-01T00:00:00"],
        None,
        TableVersionNotFoundError,
        "did not exist yet at 2001-01-01T00:00:00+00:00",
    ),
    (["show", "table:nope@1"], None, TableNotFoundError, "no table named 'nope'"),
    (["show", "table:deliveries@1..3"], None, UserInputError, "names a range"),
    (["show", "deliveries"], None, RefSyntaxError, "bad ref 'deliveries'"),
    (["show", "table:deliveries", "--columns", "nope"], None, UserInputError, "no column nope"),
    (["show", "table:deliveries", "--where", "id >>> 1"], None, UserInputError, "bad predicate"),
    (["merge", "deliveries", "F", "--on", "id"], NO_KEY, UserInputError, "merge key id"),
    (["merge", "deliveries", "F", "--on", "driver"], EXTRA_COLUMN, UserInputError, "merge key"),
    (["delete", "deliveries", "--where", "id >>> 3"], None, UserInputError, "bad predicate"),
    (["delete", "deliveries", "--where", "nope = 3"], None, UserInputError, "No field named"),
    (
        ["update", "deliveries", "--set", "delay_min=delay_min +", "--where", "id = 1"],
        None,
        UserInputError,
        "bad predicate or expression",
    ),
    (["update", "deliveries", "--set", "delay_min"], None, UserInputError, "bad --set"),
    (["append", "deliveries", "F"], EXTRA_COLUMN, TableError, "no column 'driver'"),
    (["append", "deliveries", "F", "--merge-schema"], RETYPED, TableError, "incompatible type"),
    (["overwrite", "deliveries", "F"], RETYPED, TableError, "incompatible type change"),
    (
        ["overwrite", "deliveries", "F", "--merge-schema", "--overwrite-schema"],
        RETYPED,
        UserInputError,
        "not both",
    ),
    (["append", "deliveries", "missing.parquet"], None, UserInputError, "does not exist"),
    (["append", "deliveries", "data.txt"], None, UserInputError, "cannot tell the format"),
    (["create", "deliveries", "--from", "F"], GOOD, TableError, "exists already"),
    (["create", "x", "--from", "F", "--format", "orc"], GOOD, UserInputError, "unknown table"),
    (["create", "x", "--schema", "id:int64,b:wat"], None, UserInputError, "unknown column type"),
    (["create", "x"], None, UserInputError, "give either data or a schema"),
    (["create", "x@1", "--from", "F"], GOOD, RefSyntaxError, "bad ref"),
    (
        ["create", "x", "--from", "F", "--partition-by", "nope"],
        GOOD,
        UserInputError,
        "cannot partition table x by nope",
    ),
    (["restore", "deliveries", "9"], None, TableVersionNotFoundError, "has no version 9"),
    (["drop", "deliveries"], None, UserInputError, "pass --force"),
    (["pin", "table:deliveries@4"], None, TableVersionNotFoundError, "has no version 4"),
    (["unpin", "table:deliveries@0"], None, TableError, "is not pinned by manual"),
    (["vacuum", "deliveries", "--retain", "soon"], None, UserInputError, "bad duration"),
    (["register", "x", "."], None, TableError, "no Delta or Iceberg table"),
    (["partition", "deliveries", "--add", "weather"], None, UnsupportedByFormatError, "Iceberg"),
    (["tag", "table:deliveries@0", "audit"], None, UnsupportedByFormatError, "Iceberg"),
    (["branch", "table:deliveries@0", "fix"], None, UnsupportedByFormatError, "Iceberg"),
    (["optimize", "deliveries", "--zorder", "nope"], None, UserInputError, "no column nope"),
    (
        ["diff", "table:deliveries@0", "table:deliveries@0", "--key", "nope"],
        None,
        UserInputError,
        "has no column nope",
    ),
]


@pytest.mark.parametrize(
    ("args", "data", "error", "fragment"), CASES, ids=[" ".join(c[0]) for c in CASES]
)
def test_bad_input_is_one_line_and_writes_nothing(
    table_ws: Workspace,
    cli: Cli,
    write_file: FileMaker,
    args: list[str],
    data: pa.Table | None,
    error: type[Exception],
    fragment: str,
) -> None:
    if data is not None:
        path = write_file("input.parquet", data)
        args = [str(path) if a == "F" else a for a in args]
    (table_ws.root / "data.txt").write_text("not a table\n")
    before = snapshot(table_ws.root)
    catalog = table_ws.tables.list()
    out = cli("table", *args, cwd=table_ws.root)
    assert_one_line_error(out, getattr(error, "exit_code", 1), fragment)
    assert snapshot(table_ws.root) == before
    assert table_ws.tables.list() == catalog
    assert table_ws.table("deliveries").latest_version() == 0


def test_a_column_csv_cannot_hold_is_a_clear_export_error(
    make_workspace: Callable[..., Workspace], cli: Cli
) -> None:
    ws = make_workspace()
    ws.tables.create("visits", pa.table({"id": [1], "stops": pa.array([[1, 2]])}))
    before = snapshot(ws.root)
    out = cli("table", "export", "table:visits@0", "visits.csv", cwd=ws.root)
    assert_one_line_error(out, UserInputError.exit_code, "cannot write visits.csv as csv")
    assert snapshot(ws.root) == before
