"""Start-up stays lean (the table commands import no data library until they run), and the
demo's tables chapter tells its story."""

from __future__ import annotations

import subprocess
import sys

from factories import WorkspaceFactory

HEAVY = ("pyarrow", "deltalake", "pyiceberg", "polars", "pandas", "sqlalchemy")


def test_importing_the_table_commands_loads_no_data_library() -> None:
    code = (
        "import sys, strata.tables, strata.cli.table_cmds, strata.cli.main\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_demo_chapter(make_workspace: WorkspaceFactory) -> None:
    from strata.cli.demo_tables import chapter

    ws = make_workspace(git=False)
    lines: list[str] = []
    chapter(ws, lines.append)
    story = "\n".join(lines)
    for step in ("table create", "table merge", "table show", "stats", "diff", "pin", "restore"):
        assert f"strata {step}" in story or f"strata table {step}" in story, step
    table = ws.table("deliveries")
    assert table.history()[0].operation == "RESTORE"
    assert table.to_arrow().num_rows == table.at(1).to_arrow().num_rows
    assert [p.pinned_by for p in ws.tables.pins("deliveries")] == ["model:delay-classifier@1"]
