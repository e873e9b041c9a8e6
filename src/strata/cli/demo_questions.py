"""The last chapter of ``strata demo``: the four questions of the design, each answered by one
command from what the story before recorded."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from rich.markup import escape

from strata.workspace import Workspace

MODEL = "delay-classifier"


def chapter(ws: Workspace, say: Callable[[str], None]) -> None:
    production = ws.models.resolve(f"model:{MODEL}@production").ref
    chain = ws.lineage.provenance(production)
    data = ", ".join(d["ref"] for d in chain["data"]) or "none recorded"
    say(f"1. Which data produced the model in production? strata provenance {production}:")
    say(f"   {escape(data)}")

    retrained = ws.models.resolve(f"model:{MODEL}@latest").ref
    bad_data = ws.models.show(retrained).data
    affected = ws.lineage.impact(bad_data[0]).models() if bad_data else []
    say(f"2. Bad data: which models are affected? strata impact {escape(bad_data[0])}:")
    say(f"   {', '.join(a.ref for a in affected) or 'none'}")

    compared = ws.lineage.compare(production, retrained)
    say(f"3. What changed? strata compare {production} {retrained}:")
    say(f"   {escape(compared['verdict'])}")

    with tempfile.TemporaryDirectory(prefix="strata-reproduce-") as tmp:
        into = Path(tmp) / "audit"
        done = ws.lineage.reproduce(retrained, into)
        say(f"4. Reproduce it for an audit: strata reproduce {retrained} --into audit/:")
        inputs = len(done.materialised)
        say(
            f"   a git worktree at {done.commit[:12]}, {inputs} input{'s' * (inputs != 1)} at "
            f"the recorded version ({escape(', '.join(done.materialised))}), params and packages."
        )
