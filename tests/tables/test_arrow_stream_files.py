"""Arrow IPC stream files (``.arrows``, what a server's table writes receive) are read and
written like Parquet: types kept exactly, a write from the same file again is a rerun."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from strata import Workspace
from strata.errors import UserInputError
from strata.tables.inputs import read_file
from strata.tables.outputs import write_file

ROWS = pa.table({"id": pa.array([1, 2], pa.int32()), "when": pa.array([None, "x"])})


def test_a_stream_file_round_trips_with_its_types(tmp_path: Path) -> None:
    write_file(ROWS, tmp_path / "rows.arrows")
    assert read_file(tmp_path / "rows.arrows").equals(ROWS)


def test_a_table_takes_a_stream_file_once(make_workspace: object, tmp_path: Path) -> None:
    ws: Workspace = make_workspace(git=False)  # type: ignore[operator]
    write_file(ROWS, tmp_path / "rows.arrows")
    ws.tables.create("t", tmp_path / "rows.arrows")
    first = ws.table("t").append(tmp_path / "rows.arrows")
    again = ws.table("t").append(tmp_path / "rows.arrows")
    assert (first.committed, again.committed, again.version) == (True, False, first.version)
    assert ws.table("t").to_arrow().num_rows == 4


def test_a_broken_stream_file_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "bad.arrows").write_bytes(b"not arrow at all")
    with pytest.raises(UserInputError, match=r"cannot read .*bad\.arrows as arrow"):
        read_file(tmp_path / "bad.arrows")
