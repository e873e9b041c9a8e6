"""The rollback chapter of ``strata demo``: a release, a bad export, a model trained on it,
serving degrades, the guard rolls back on its own, impact names what the bad data touched,
the table is restored and the release put back.

It runs after the tables and model registry chapters, on their ``deliveries`` table and
``delay-classifier`` model.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from rich.markup import escape

from strata.refs import parse_ref
from strata.workspace import Workspace

MODEL = "delay-classifier"
POLICY = f"""\
metrics:
  source: file
  path: serving-metrics.json
models:
  {MODEL}:
    window: 30m
    when: any
    conditions: [error_rate > 0.05, p99_latency_ms > 200]
    action: rollback
    cooldown: 1h
"""


def chapter(ws: Workspace, say: Callable[[str], None]) -> None:
    import pyarrow as pa

    from strata.guard import parse_policy

    table = ws.table("deliveries")
    good = table.latest_version()
    serving = ws.models.resolve(f"model:{MODEL}@production")
    ws.models.set_alias(serving.ref, "champion")
    release = ws.recovery.releases.create("2024.10.15", description="the last good week")
    say(
        f"strata release create {release.name}: {serving.ref} in production (alias champion), "
        f"table:deliveries@{good} (now pinned), commit {(release.commit or '-')[:12]}."
    )

    # A bad export lands, and a retrained model learns from it.
    bad_rows = pa.table(
        {
            "delivery_id": [f"9-{i}" for i in range(50)],
            "day": ["2024-10-09"] * 50,
            "weather": ["sun"] * 50,
            "delay_min": [0] * 50,  # the export lost every delay: a data-quality bug
        }
    )
    bad = table.append(bad_rows, message="export of 9 October").version
    with ws.run("train-delay-classifier", params={"epochs": 3}) as run:
        rows = table.at(bad).to_arrow()
        artifact = ws.root / "models" / "delay-retrained.json"
        artifact.write_text(json.dumps({"kind": "linear", "rows": rows.num_rows}))
        latest = ws.models.show(f"model:{MODEL}@latest")
        retrained = ws.models.register(
            MODEL,
            artifact,
            signature=latest.signature,
            data=[f"table:deliveries@{bad}"],
            metrics={"mae": 3.1},
        )
    ws.models.promote(retrained.ref, "staging", reason="offline mae 3.1")
    ws.models.promote(retrained.ref, "production", reason="better offline mae")
    ws.models.set_alias(retrained.ref, "champion")
    say(
        f"{run.ref} trained {retrained.ref} ({retrained.semver}) on table:deliveries@{bad}; "
        "it is promoted to production and made the champion."
    )

    ready = ws.recovery.readiness(MODEL)
    say(
        f"strata rollback check model:{MODEL}: {'ready' if ready.ready else 'not ready'} "
        f"({ready.current} → {ready.target}, artifact verified, data pinned or readable)."
    )

    (ws.root / "serving-metrics.json").write_text(
        json.dumps({MODEL: {"error_rate": 0.12, "p99_latency_ms": 140}})
    )
    (ws.root / "guard.yaml").write_text(POLICY)
    [outcome] = ws.guard.check(parse_policy(POLICY, "guard.yaml"), base=ws.root)
    say(f"Serving degrades. strata guard check --policy guard.yaml: {escape(outcome.message)}.")
    now = ws.models.resolve(f"model:{MODEL}@production")
    say(f"@production is {now.ref} again, with no one awake; the trail records why.")

    impact = ws.lineage.impact(f"table:deliveries@{bad}")
    touched = [a.ref for a in impact.affected if a.kind in ("run", "model")]
    say(
        f"The 9 October export was wrong. strata impact table:deliveries@{bad}: "
        f"{', '.join(touched)}."
    )
    restored = ws.recovery.roll_back(
        parse_ref("table:deliveries"), to=str(good), reason="export lost the delays"
    )
    say(
        f"strata rollback table:deliveries --to {good}: {restored['to']} holds the good data; "
        f"{restored['from']} stays readable for the investigation."
    )
    back = ws.recovery.releases.rollback(release.name, reason="back to the last good week")
    steps = "; ".join(back.steps) or "nothing left to change"
    say(f"strata release rollback {release.name}: {steps}.")
    if back.git_command:
        say(f"  code and file pointers: {back.git_command}")
