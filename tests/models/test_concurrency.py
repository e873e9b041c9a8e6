"""Ten processes promote ten versions to production at once: one wins the stage, and the trail
holds every step in an order that replays to the final state."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from registry_helpers import artifact
from strata import Workspace

PROCESSES = 10
_CHILD = """
import sys, time
from pathlib import Path
from strata import Workspace

root, number, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
with Workspace(root) as ws:
    ws.models.resolve("model:clf@1")  # connected and warm before the start signal
    while not go.exists():
        time.sleep(0.002)
    ws.models.promote(f"model:clf@{number}", "production", reason=f"process {number}")
"""


@pytest.mark.slow
def test_concurrent_promotions_leave_one_holder_and_a_consistent_trail(
    db_ws: Workspace, tmp_path: Path
) -> None:
    for number in range(1, PROCESSES + 1):
        db_ws.models.register("clf", artifact(db_ws.root, str(number)))
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(db_ws.root), str(number), str(go)],
            env=dict(os.environ),
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in range(1, PROCESSES + 1)
    ]
    time.sleep(1.0)
    go.touch()
    for child in children:
        _, stderr = child.communicate(timeout=120)
        assert child.returncode == 0, stderr

    stages = {v.number: v.stage for v in db_ws.models.versions("clf")}
    assert list(stages.values()).count("production") == 1
    moves = [e for e in db_ws.models.history("clf") if e.action == "stage"]
    promoted = [e.version for e in moves if e.to_value == "production"]
    assert sorted(promoted) == list(range(1, PROCESSES + 1)), "every promotion is recorded"
    assert len(moves) == 2 * PROCESSES - 1, "every promotion but the first archived one"

    replayed: dict[int, str] = dict.fromkeys(stages, "none")
    for event in moves:
        assert event.version is not None
        assert event.from_value == replayed[event.version], "each step starts where the last ended"
        replayed[event.version] = str(event.to_value)
    assert replayed == stages
    assert db_ws.models.resolve("model:clf@production").number == promoted[-1]
