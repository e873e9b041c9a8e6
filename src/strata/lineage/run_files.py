"""The files a run shares with its code in the workspace root: the ``params.yaml`` its params
start from, and the ``metrics.json`` its code writes, whose numbers become the run's metrics."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from strata.core import safe_yaml
from strata.errors import LineageError

PARAMS_FILE = "params.yaml"
METRICS_FILE = "metrics.json"


def read_params(root: Path) -> dict[str, Any]:
    """The mapping in ``root/params.yaml`` (empty when there is none); LineageError when it
    cannot be read or is not a mapping."""
    path = root / PARAMS_FILE
    if not path.is_file():
        return {}
    import yaml

    try:
        data = safe_yaml.load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, safe_yaml.YamlTooLarge) as exc:
        raise LineageError(
            f"cannot read {PARAMS_FILE}: {str(exc).splitlines()[0]}",
            hint=f"fix {PARAMS_FILE} or remove it",
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LineageError(f"{PARAMS_FILE} is not a mapping", hint="write key: value lines")
    return {str(k): v for k, v in data.items()}


def read_metrics(root: Path, *, since: datetime) -> dict[str, float]:
    """Numbers in a ``root/metrics.json`` written since ``since`` (nested keys dotted)."""
    path = root / METRICS_FILE
    try:
        if path.stat().st_mtime < since.timestamp() - 1:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return dict(_numbers(data)) if isinstance(data, dict) else {}


def _numbers(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, float]]:
    found: list[tuple[str, float]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found += _numbers(value, name + ".")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found.append((name, float(value)))
    return found
