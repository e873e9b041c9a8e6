"""The registry chapter of ``strata demo`` tells its story on a fresh workspace."""

from __future__ import annotations

from strata import Workspace
from strata.cli.demo_models import MODEL, chapter


def test_the_chapter_registers_promotes_and_rolls_back(ws: Workspace) -> None:
    lines: list[str] = []
    chapter(ws, lines.append)
    text = "\n".join(lines)
    for fragment in (
        "model:delay-classifier@1 is v1.0.0",
        "model:delay-classifier@2 is v1.1.0",
        "model:delay-classifier@3 is v2.0.0",
        "new required input 'hour'",
        "@production is model:delay-classifier@3 (v2.0.0)",
        "@production is model:delay-classifier@2 (v1.1.0) again",
    ):
        assert fragment in text, fragment
    assert ws.models.resolve(f"model:{MODEL}@production").number == 2
    assert ws.models.show(f"model:{MODEL}@3").stage == "archived"
