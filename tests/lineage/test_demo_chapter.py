"""The lineage chapter of the demo tells its story from recorded facts."""

from __future__ import annotations

from factories import WorkspaceFactory, commit_all
from strata.cli.demo_lineage import chapter


def test_the_chapter_records_a_run_and_shows_its_provenance(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(cache_type="copy")
    commit_all(ws.root, "start")
    lines: list[str] = []
    chapter(ws, lines.append)
    [run] = ws.lineage.runs()
    record = ws.lineage.run(run.ref)
    assert record.status == "completed" and record.metrics == {"rows_read": 4.0}
    assert record.outputs[0].startswith("file:data/delay_by_weather.csv@")
    text = "\n".join(lines)
    assert f"{run.ref} completed" in text
    assert "flowchart LR" in text and "-->|output|" in text
    assert "features:delivery@1: distance_km, weather" in text
