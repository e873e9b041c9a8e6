"""Run by MLflow's venv for ``bench_mlflow_api.py``: an MLflow client's registry calls against
the server MLFLOW_TRACKING_URI names, each timed. Usage: mlflow_registry_calls.py MODEL CALLS.

Logs one run with a small pyfunc model, then CALLS times: register a version from
``runs:/ID/model``, transition it to Staging, point the alias ``champion`` at it and resolve
the alias. Prints one JSON object: each call's latencies in milliseconds."""

import json
import os
import sys
import tempfile
import time

import mlflow
from mlflow import MlflowClient


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * x for x in model_input]


model, calls = sys.argv[1], int(sys.argv[2])
client = MlflowClient()
mlflow.set_experiment(f"bench-{model}")
with mlflow.start_run() as run:
    saved = os.path.join(tempfile.mkdtemp(), "model")
    mlflow.pyfunc.save_model(saved, python_model=Doubler())
    mlflow.log_artifacts(saved, artifact_path="model")
client.create_registered_model(model)
timings = {"register": [], "transition": [], "alias": [], "resolve": []}
for _ in range(calls):
    began = time.perf_counter()
    version = client.create_model_version(model, f"runs:/{run.info.run_id}/model", run.info.run_id)
    timings["register"].append(time.perf_counter() - began)
    began = time.perf_counter()
    client.transition_model_version_stage(model, version.version, "Staging")
    timings["transition"].append(time.perf_counter() - began)
    began = time.perf_counter()
    client.set_registered_model_alias(model, "champion", version.version)
    timings["alias"].append(time.perf_counter() - began)
    began = time.perf_counter()
    found = client.get_model_version_by_alias(model, "champion")
    timings["resolve"].append(time.perf_counter() - began)
    assert found.version == version.version and found.current_stage == "Staging"
print(json.dumps({key: [s * 1000 for s in values] for key, values in timings.items()}))
