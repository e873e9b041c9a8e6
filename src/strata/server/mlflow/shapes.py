"""MLflow's JSON shapes of Strata's objects, and MLflow's error shape.

Field names are MLflow's (``service.proto``, ``model_registry.proto``): snake_case, times in
milliseconds since the epoch, ids and version numbers as strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse

from strata.lineage.logged_models import LoggedModel
from strata.lineage.mlflow_datasets import MLFLOW_NAMESPACE
from strata.lineage.tracking_records import Experiment, MetricPoint, TrackedRun
from strata.server.mlflow.requests import KeyValue

# MLflow's error codes by Strata error class, then by status.
CODES_BY_KIND = {
    "AlreadyExistsError": "RESOURCE_ALREADY_EXISTS",
    "PromotionRefusedError": "INVALID_STATE",
    "ProtectedAliasError": "INVALID_STATE",
}
CODES_BY_STATUS = {
    400: "INVALID_PARAMETER_VALUE",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    405: "ENDPOINT_NOT_FOUND",
    409: "INVALID_STATE",
    413: "INVALID_PARAMETER_VALUE",
    503: "TEMPORARILY_UNAVAILABLE",
}


def ms(when: datetime | None) -> int | None:
    return None if when is None else int(when.timestamp() * 1000)


def pairs(values: Mapping[str, Any]) -> list[dict[str, str]]:
    """``{"a": 1}`` → ``[{"key": "a", "value": "1"}]``, MLflow's form of params and tags."""
    return [{"key": key, "value": str(value)} for key, value in sorted(values.items())]


def from_pairs(items: Iterable[KeyValue]) -> dict[str, str]:
    """MLflow's ``[{key, value}]`` → a dict."""
    return dict(item.pair() for item in items)


def experiment(found: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": str(found.id),
        "name": found.name,
        "artifact_location": found.artifact_location,
        "lifecycle_stage": found.lifecycle_stage,
        "creation_time": ms(found.created_at),
        "last_update_time": ms(found.updated_at),
        "tags": pairs(found.tags),
    }


def metric(point: MetricPoint) -> dict[str, Any]:
    return {
        "key": point.key,
        "value": point.value,
        "timestamp": point.timestamp_ms,
        "step": point.step,
    }


def run_info(found: TrackedRun) -> dict[str, Any]:
    info: dict[str, Any] = {
        "run_id": found.run.id,
        "run_uuid": found.run.id,
        "run_name": found.name,
        "experiment_id": str(found.experiment_id),
        "user_id": found.user_id,
        "status": found.status,
        "start_time": ms(found.run.started_at),
        "artifact_uri": found.artifact_uri,
        "lifecycle_stage": found.lifecycle_stage,
    }
    if found.run.ended_at is not None:
        info["end_time"] = ms(found.run.ended_at)
    return info


def run(found: TrackedRun, outputs: Iterable[LoggedModel] = ()) -> dict[str, Any]:
    """A run as ``runs/get`` answers: info, data (metrics, params, tags), inputs, and the
    logged models it produced."""
    datasets = [
        {"dataset": _dataset(ref), "tags": []}
        for ref in found.run.inputs
        if not ref.startswith("run:")
    ]
    return {
        "info": run_info(found),
        "data": {
            "metrics": [metric(p) for p in found.metrics],
            "params": pairs(found.run.params),
            "tags": pairs(found.tags),
        },
        "inputs": {"dataset_inputs": datasets},
        "outputs": {"model_outputs": [{"model_id": m.id, "step": 0} for m in outputs]},
    }


def logged_model(found: LoggedModel) -> dict[str, Any]:
    info: dict[str, Any] = {
        "model_id": found.id,
        "experiment_id": str(found.experiment_id),
        "name": found.name,
        "creation_timestamp_ms": ms(found.created_at),
        "last_updated_timestamp_ms": ms(found.updated_at),
        "artifact_uri": found.artifact_uri,
        "status": f"LOGGED_MODEL_{found.status}",
        "tags": pairs(found.tags),
    }
    for key in ("model_type", "source_run_id"):
        if getattr(found, key):
            info[key] = getattr(found, key)
    return {"info": info, "data": {"params": pairs(found.params), "metrics": []}}


def _dataset(ref: str) -> dict[str, str]:
    """What MLflow shows of an input: its Strata ref as the source, its version as digest."""
    name, _, digest = ref.partition("@")
    return {
        "name": name.split(":", 1)[-1].removeprefix(f"{MLFLOW_NAMESPACE}/"),
        "digest": digest,
        "source_type": "strata",
        "source": ref,
    }


def error(
    status: int, message: str, headers: dict[str, str] | None, kind: str | None
) -> JSONResponse:
    """``{"error_code", "message"}`` with the status MLflow's server gives that code."""
    code = CODES_BY_KIND.get(kind or "")
    if code is None and kind is not None and kind.endswith("NotFoundError"):
        code = "RESOURCE_DOES_NOT_EXIST"
    if code is None and kind is None and status in (404, 405) and message == "Not Found":
        code = "ENDPOINT_NOT_FOUND"  # no route: the client asked for an API not served here
    if code is None:
        code = CODES_BY_STATUS.get(status, "INTERNAL_ERROR")
    if status == 409:
        status = 400  # MLflow answers INVALID_STATE with 400
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Basic realm="strata"'}
    return JSONResponse({"error_code": code, "message": message}, status, headers=headers)
