"""MLflow's JSON shapes of Strata's registry: registered models and model versions.

Stages map one to one (``production`` ↔ ``Production``); aliases are Strata's aliases; a
version's ``source`` is where its artifacts came from, kept as its ``mlflow.source`` tag.
"""

from __future__ import annotations

from typing import Any

from strata.models.records import ModelSummary, ModelVersion
from strata.refs import STAGES
from strata.server.mlflow.shapes import ms, pairs

SOURCE_TAG = "mlflow.source"
LOGGED_MODEL_TAG = "mlflow.model_id"
HIDDEN_TAGS = (SOURCE_TAG, LOGGED_MODEL_TAG)
STAGE_NAMES = {stage: stage.capitalize() for stage in STAGES}  # none → None, ...
REGISTRY_ROOT = "registry"
"""``mlflow-artifacts:/registry/NAME/N``: a version's artifact, served from the registry."""


def download_uri(version: ModelVersion) -> str:
    return f"mlflow-artifacts:/{REGISTRY_ROOT}/{version.name}/{version.number}"


def model_version(version: ModelVersion) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": version.name,
        "version": str(version.number),
        "creation_timestamp": ms(version.created_at),
        "last_updated_timestamp": ms(version.created_at),
        "user_id": version.created_by,
        "current_stage": STAGE_NAMES[version.stage],
        "description": version.description or "",
        "source": version.tags.get(SOURCE_TAG, download_uri(version)),
        "status": "READY",
        "tags": pairs({k: v for k, v in version.tags.items() if k not in HIDDEN_TAGS}),
        "aliases": list(version.aliases),
    }
    if version.run is not None:
        found["run_id"] = version.run.removeprefix("run:")
    if LOGGED_MODEL_TAG in version.tags:
        found["model_id"] = version.tags[LOGGED_MODEL_TAG]
    return found


def registered_model(
    summary: ModelSummary, versions: list[ModelVersion], tags: dict[str, str]
) -> dict[str, Any]:
    """A model with its tags, the latest version of each stage and its aliases."""
    latest: dict[str, ModelVersion] = {}
    for version in versions:
        latest[version.stage] = version  # versions come in number order: the last wins
    aliases = [{"alias": alias, "version": str(v.number)} for v in versions for alias in v.aliases]
    created = ms(summary.created_at)
    updated = max([created or 0, *(ms(v.created_at) or 0 for v in versions)])
    return {
        "name": summary.name,
        "creation_timestamp": created,
        "last_updated_timestamp": updated,
        "description": summary.description or "",
        "latest_versions": [model_version(latest[s]) for s in STAGES if s in latest],
        "aliases": aliases,
        "tags": pairs(tags),
    }
