"""A delete or update whose predicate matches no row commits nothing, on both formats, and the
CLI says so instead of naming the old version as if it were new."""

from __future__ import annotations

import pytest

from factories import Cli, WorkspaceFactory
from strata.tables.records import Format
from tabledata import RecordingActivity, deliveries, sorted_rows


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_a_delete_or_update_matching_no_row_commits_nothing(
    make_workspace: WorkspaceFactory, fmt: Format
) -> None:
    ws = make_workspace(git=False)
    ws.tables.create("deliveries", deliveries(range(10)), format=fmt)
    activity = RecordingActivity()
    ws.activity = activity
    table = ws.table("deliveries")
    latest, commits = table.latest_version(), len(table.history())
    deleted = table.delete("id > 100")
    updated = table.update({"delay_min": "0"}, where="id = 100")
    for result in (deleted, updated):
        assert (result.committed, result.version) == (False, latest)
        assert result.to_dict()["committed"] is False
    assert table.latest_version() == latest and len(table.history()) == commits
    assert activity.writes == [], "a write that committed nothing is no write"
    assert sorted_rows(table.to_arrow()) == sorted_rows(deliveries(range(10)))
    matched = table.delete("id = 3")
    assert matched.committed and matched.version > latest
    assert activity.writes == [f"table:deliveries@{matched.version}"]


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_the_cli_says_no_rows_matched(
    make_workspace: WorkspaceFactory, cli: Cli, fmt: Format
) -> None:
    ws = make_workspace(git=False)
    ws.tables.create("deliveries", deliveries(range(10)), format=fmt)
    latest = ws.table("deliveries").latest_version()
    said = (
        f"nothing to do: no rows matched; table:deliveries@{latest} "
        "stays the latest version (no commit)"
    )
    for args in (
        ("delete", "deliveries", "--where", "id > 100"),
        ("update", "deliveries", "--set", "delay_min=0", "--where", "id > 100"),
    ):
        done = cli("table", *args, cwd=ws.root)
        assert done.code == 0, done.stderr
        assert done.stdout.strip() == said
        as_json = cli("table", *args, "--json", cwd=ws.root)
        assert as_json.code == 0, as_json.stderr
        out = as_json.json()
        assert isinstance(out, dict)
        assert (out["committed"], out["version"]) == (False, latest)
    done = cli("table", "delete", "deliveries", "--where", "id = 3", cwd=ws.root)
    assert done.code == 0, done.stderr
    assert done.stdout.strip() == f"table:deliveries@{latest + 1} (delete)"
