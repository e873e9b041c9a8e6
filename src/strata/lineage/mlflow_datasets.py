"""The Strata ref of a dataset an MLflow client logged as a run's input (``log_input``): what
the MLflow REST API of ``strata server`` records and what ``strata migrate mlflow`` imports."""

from __future__ import annotations

import json

from strata.errors import RefSyntaxError
from strata.refs import format_ref, parse_ref

STRATA_INPUTS = ("table", "file", "model", "features")
MLFLOW_NAMESPACE = "mlflow"  # of the datasets MLflow clients log that name no Strata ref


def dataset_ref(name: str, digest: str, source: str) -> str:
    """The Strata ref of an MLflow dataset: the ref its source names (itself, or the ``uri``
    or ``url`` of its JSON), else ``dataset:mlflow/NAME@DIGEST``."""
    candidates = [source]
    try:
        parsed = json.loads(source)
        if isinstance(parsed, dict):
            candidates += [
                v for k, v in parsed.items() if k in ("uri", "url") and isinstance(v, str)
            ]
    except ValueError:
        pass
    for text in candidates:
        if text.split(":", 1)[0] in STRATA_INPUTS:
            try:
                return format_ref(parse_ref(text))
            except RefSyntaxError:
                pass
    ref = f"dataset:{MLFLOW_NAMESPACE}/{name}" + (f"@{digest}" if digest else "")
    return format_ref(parse_ref(ref))
