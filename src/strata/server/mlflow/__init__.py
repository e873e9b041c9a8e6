"""MLflow's REST API on ``strata server``: unmodified MLflow clients track runs, store
artifacts, and register, promote and load models through Strata's own run store, object
store and registry, under Strata's permissions.

    MLFLOW_TRACKING_URI=http://127.0.0.1:8765 MLFLOW_TRACKING_USERNAME=ana \\
        MLFLOW_TRACKING_PASSWORD=$TOKEN python train.py
"""

from __future__ import annotations

from fastapi import FastAPI

from strata.server import errors
from strata.server.mlflow import (
    artifact_routes,
    logged_model_routes,
    registry_routes,
    shapes,
    tracking_routes,
)

PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
ARTIFACTS_PREFIX = "/api/2.0/mlflow-artifacts"
UPLOAD_PATHS = rf"{ARTIFACTS_PREFIX}/artifacts/."
"""Artifact uploads: they stream to disk, up to ``server.max_upload`` bytes, not 16 MiB."""


def install(app: FastAPI) -> None:
    """Serve MLflow's API under its prefixes, its errors in MLflow's shape."""
    for prefix in PREFIXES:
        app.include_router(tracking_routes.router, prefix=prefix)
        app.include_router(artifact_routes.tracking_router, prefix=prefix)
        app.include_router(logged_model_routes.router, prefix=prefix)
        app.include_router(registry_routes.router, prefix=prefix)
    app.include_router(artifact_routes.router, prefix=ARTIFACTS_PREFIX)
    for prefix in (*PREFIXES, ARTIFACTS_PREFIX):
        errors.shape_errors(app, prefix, shapes.error)
