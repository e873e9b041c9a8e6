"""Incident reports: the timeline an audit asks for, from recorded facts."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from factories import assert_one_line_error, write

MODEL = "delay-classifier"


def test_the_report_tells_promotions_guard_rollbacks_and_table_restores(
    make_workspace: Any, cli: Any
) -> None:
    ws = make_workspace()
    ws.tables.create("deliveries", pa.table({"id": [1, 2]}))
    ws.table("deliveries").append(pa.table({"id": [3]}))
    for n in (1, 2):
        path = write(ws.root / f"model-{n}.json", json.dumps({"n": n}))
        ws.models.register(MODEL, path)
        ws.models.promote(f"model:{MODEL}@{n}", "production", reason=f"ship v{n}")
    (ws.root / "metrics.json").write_text(json.dumps({MODEL: {"error_rate": 0.2}}))
    (ws.root / "guard.yaml").write_text(
        "metrics: {source: file, path: metrics.json}\n"
        f"models:\n  {MODEL}:\n    conditions: [error_rate > 0.05]\n    action: rollback\n"
    )
    assert cli("guard", "check", "--policy", "guard.yaml", cwd=ws.root).code == 0
    restored = cli("rollback", "table:deliveries", "--to", "0", "--reason", "dupes", cwd=ws.root)
    assert restored.code == 0, restored.stderr

    done = cli("incident", "report", "--since", "1h", "-o", "incident.md", cwd=ws.root)
    assert done.code == 0, done.stderr
    report = (ws.root / "incident.md").read_text()
    timeline = report.split("## Timeline")[1].split("## Who acted")[0]
    lines = [line for line in timeline.splitlines() if line.startswith("- ")]
    texts = [line.split(" · ", 3)[3] for line in lines]
    assert f"model:{MODEL}@2: stage none → production — ship v2" in texts
    guard = [t for t in texts if t.startswith("guard rolled_back")]
    assert len(guard) == 1 and "error_rate > 0.05 (is 0.2)" in guard[0]
    assert any(t.startswith(f"model:{MODEL}@1: stage archived → production") for t in texts)
    assert any(t.startswith("table:deliveries@2 RESTORE") and "dupes" in t for t in texts)
    stamps = [line.split(" · ")[0] for line in lines]
    assert stamps == sorted(stamps)
    assert "## Who acted" in report


def test_a_window_after_everything_is_empty(make_workspace: Any, cli: Any) -> None:
    ws = make_workspace()
    done = cli("incident", "report", "--since", "2999-01-01T00:00", cwd=ws.root)
    assert done.code == 0 and "Nothing happened in this window." in done.stdout


def test_bad_input(make_workspace: Any, cli: Any) -> None:
    ws = make_workspace()
    bad = cli("incident", "report", "--since", "last tuesday", cwd=ws.root)
    assert_one_line_error(bad, 2, "neither an ISO time nor a duration")
    unknown = cli("incident", "report", "--since", "1h", "--model", "ghost", cwd=ws.root)
    assert_one_line_error(unknown, 30, "ghost")
