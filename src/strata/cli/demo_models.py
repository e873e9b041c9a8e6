"""The model registry chapter of ``strata demo``: semantic versions, stages and a rollback.

The "model" is a small JSON file of weights, so the chapter needs no ML library and runs in
well under a second.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from strata.workspace import Workspace

MODEL = "delay-classifier"


def _signature(*inputs: str) -> dict[str, Any]:
    return {
        "inputs": [{"name": n, "type": t, "required": True} for n, t in map(_split, inputs)],
        "outputs": [{"name": "delay_min", "type": "float64", "required": True}],
    }


def _split(column: str) -> tuple[str, str]:
    name, _, kind = column.partition(":")
    return name, kind


def _train(path: Path, weights: dict[str, float]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"kind": "linear", "weights": weights}, sort_keys=True))
    return path


def chapter(ws: Workspace, say: Callable[[str], None]) -> None:
    reg = ws.models
    artifact = ws.root / "models" / "delay.json"
    data = [f"file:{v.path}@{v.hash[:12]}" for v in ws.files.versions()[-1:]]
    v1_inputs = ("distance_km:float64", "weather:string")

    first = reg.register(
        MODEL,
        _train(artifact, {"distance_km": 0.31, "rain": 4.0}),
        signature=_signature(*v1_inputs),
        metrics={"mae": 4.2},
        data=data,
        semver="1.0.0",
        description="minutes of delay from distance and weather",
    )
    say(f"strata model register {MODEL}: {first.ref} is {first.semver}.")
    retrained = reg.register(
        MODEL,
        _train(artifact, {"distance_km": 0.29, "rain": 4.6}),
        signature=_signature(*v1_inputs),
        metrics={"mae": 3.9},
        data=data,
    )
    say(f"Retrained on more data: {retrained.ref} is {retrained.semver}.")
    say(f"  why: {retrained.semver_reason}.")
    reshaped = reg.register(
        MODEL,
        _train(artifact, {"distance_km": 0.27, "rain": 4.4, "hour": 0.8}),
        signature=_signature(*v1_inputs, "hour:int64"),
        metrics={"mae": 3.5},
        data=data,
    )
    say(f"A new required input: {reshaped.ref} is {reshaped.semver}.")
    say(f"  why: {reshaped.semver_reason}.")

    for version in (retrained, reshaped):
        reg.promote(version.ref, "staging", reason="offline evaluation passed")
        reg.promote(version.ref, "production", reason=f"mae {version.metrics['mae']}")
    now = reg.resolve(f"model:{MODEL}@production")
    say(f"Promoted through staging to production: @production is {now.ref} ({now.semver}).")
    say(f"The version it replaced, {retrained.ref}, was archived, and the trail says so.")

    back = reg.rollback(MODEL, reason="callers still send the old inputs")
    restored = reg.resolve(f"model:{MODEL}@production")
    say(
        f"strata model rollback {MODEL}: @production is {restored.ref} ({restored.semver}) "
        f"again, from the audit trail, in one transaction ({len(back.events)} events)."
    )
    trail = reg.history(MODEL)
    say(f"strata model history {MODEL}: {len(trail)} events, each with who, when and why.")
