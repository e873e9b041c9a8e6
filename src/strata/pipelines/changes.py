"""Why a stage must run: what differs between how it would run now and its lock entry."""

from __future__ import annotations

from collections.abc import Mapping

from strata.pipelines.lock import OutState, StageState


def reasons(
    now: StageState, locked: StageState | None, outs_now: Mapping[str, OutState | None]
) -> list[str]:
    """Empty when the stage is up to date; else one short phrase per difference."""
    if locked is None:
        return ["never ran"]
    found: list[str] = []
    if now.cmd != locked.cmd:
        found.append("command changed")
    for dep in sorted(set(now.deps) | set(locked.deps)):
        if dep not in locked.deps:
            found.append(f"new dependency {dep}")
        elif dep not in now.deps:
            found.append(f"dependency {dep} removed")
        elif now.deps[dep] != locked.deps[dep]:
            found.append(f"dependency {dep} changed")
    for key, value in _flat(now.params).items():
        old = _flat(locked.params).get(key, _ABSENT)
        if old is _ABSENT:
            found.append(f"new param {key}")
        elif old != value:
            found.append(f"param {key} changed")
    for key in _flat(locked.params).keys() - _flat(now.params).keys():
        found.append(f"param {key} removed")
    for path, state in outs_now.items():
        recorded = locked.outs.get(path)
        if recorded is None:
            found.append(f"new output {path}")
        elif state is None:
            found.append(f"output {path} missing")
        elif state.hash != recorded.hash and recorded.kind not in ("table", "model"):
            found.append(f"output {path} modified")
    return found


_ABSENT = object()


def _flat(params: Mapping[str, Mapping[str, object]]) -> dict[str, object]:
    return {
        (key if file == "params.yaml" else f"{file}:{key}"): value
        for file, values in params.items()
        for key, value in values.items()
    }
