"""A rerun of a write that already committed (after an interrupt, say) writes nothing twice."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from factories import Cli
from strata import Workspace

FORMATS = ["delta", "iceberg"]


@pytest.fixture(params=FORMATS)
def ws(request: pytest.FixtureRequest, make_workspace: object) -> Workspace:
    workspace: Workspace = make_workspace(git=False)  # type: ignore[operator]
    workspace.tables.create("t", data=pa.table({"id": [1, 2]}), format=request.param)
    return workspace


def _parquet(path: Path, ids: list[int]) -> Path:
    pq.write_table(pa.table({"id": ids}), path)
    return path


def test_appending_the_same_file_again_commits_nothing(ws: Workspace) -> None:
    table = ws.table("t")
    october = _parquet(ws.root / "october.parquet", [3, 4])
    first = table.append(october)
    again = table.append(october)
    assert (first.committed, again.committed) == (True, False)
    assert again.version == first.version == table.latest_version()
    assert sorted(table.to_arrow().column("id").to_pylist()) == [1, 2, 3, 4]


def test_allow_duplicate_and_other_files_append_again(ws: Workspace) -> None:
    table = ws.table("t")
    october = _parquet(ws.root / "october.parquet", [3])
    table.append(october)
    table.append(_parquet(ws.root / "november.parquet", [4]))
    table.append(october)  # not a rerun: another write came in between
    table.append(october, allow_duplicate=True)
    assert sorted(table.to_arrow().column("id").to_pylist()) == [1, 2, 3, 3, 3, 4]


def test_another_user_writing_the_same_file_is_not_a_rerun(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, make_workspace: object
) -> None:
    october = _parquet(ws.root / "october.parquet", [3])
    ws.table("t").append(october)
    monkeypatch.setenv("STRATA_USER", "someone-else")
    other: Workspace = make_workspace.open(ws.root)  # type: ignore[attr-defined]
    assert other.table("t").append(october).committed


def test_a_rerun_from_the_command_line_says_nothing_was_written(ws: Workspace, cli: Cli) -> None:
    october = _parquet(ws.root / "october.parquet", [3])
    assert cli("table", "append", "t", str(october), cwd=ws.root).code == 0
    version = ws.table("t").latest_version()
    again = cli("table", "append", "t", str(october), "--json", cwd=ws.root)
    assert again.code == 0, again.stderr
    assert again.json()["committed"] is False and again.json()["version"] == version
    assert ws.table("t").latest_version() == version


def test_the_command_line_names_a_rerun_and_allow_duplicate_writes_again(
    ws: Workspace, cli: Cli
) -> None:
    october = _parquet(ws.root / "october.parquet", [3])
    assert cli("table", "append", "t", str(october), cwd=ws.root).code == 0
    again = cli("table", "append", "t", str(october), cwd=ws.root)
    assert "already holds this write" in again.stdout and "--allow-duplicate" in again.stdout
    forced = cli("table", "append", "t", str(october), "--allow-duplicate", cwd=ws.root)
    assert forced.code == 0, forced.stderr
    assert sorted(ws.table("t").to_arrow().column("id").to_pylist()) == [1, 2, 3, 3]
