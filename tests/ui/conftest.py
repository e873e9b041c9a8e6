"""A served workspace for the web UI's tests (see ``site``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server_support import Server, Site, make_site, served
from ui_support import HOSTILE

GUARD_POLICY = """\
metrics:
  source: file
  path: serving-metrics.json
models:
  guarded:
    window: 30m
    when: any
    conditions: [error_rate > 0.05]
    action: rollback
    cooldown: 1h
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """make_site's, plus: a model described in HTML; a run of job train reading
    table:deliveries@0 (params lr=0.1, metric mae=1.5); model guarded, whose v2 the guard rolled
    back to v1 (policy in guard.yaml)."""
    from strata.guard.policy import parse_policy

    made = make_site(tmp_path_factory.mktemp("ui") / "ws", None)
    with made.workspace() as ws:
        for name, number, description in (("hostile", 1, HOSTILE), ("guarded", 1, None),
                                          ("guarded", 2, None)):  # fmt: skip
            artifact = made.root / f"{name}-{number}.bin"
            artifact.write_bytes(f"{name} {number}".encode())
            ws.models.register(name, artifact, description=description)
        ws.models.promote("model:guarded@1", "production", reason="first")
        ws.models.promote("model:guarded@2", "production", reason="better")
        run = ws.lineage.start_run("train", params={"lr": 0.1}, inputs=["table:deliveries@0"])
        run.log_metric("mae", 1.5)
        ws.lineage.finish_run(run)
        (made.root / "guard.yaml").write_text(GUARD_POLICY)
        (made.root / "serving-metrics.json").write_text('{"guarded": {"error_rate": 0.2}}')
        [outcome] = ws.guard.check(parse_policy(GUARD_POLICY, "guard.yaml"), base=made.root)
        assert outcome.outcome == "rolled_back", outcome
    return made


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    yield from served(site)
