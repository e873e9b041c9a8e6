"""A viewer's MLflow client: it reads runs and models, and every write is refused.
Usage: viewer.py RUN_ID. Prints one JSON object."""

import json
import os
import sys
import tempfile

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException
from requests.exceptions import HTTPError

run_id = sys.argv[1]
client = MlflowClient()
out = {}
run = client.get_run(run_id)
experiment_id = run.info.experiment_id
out["read_run"] = run.data.params.get("lr")
out["read_model"] = client.get_registered_model("clf").name
local = mlflow.artifacts.download_artifacts("models:/clf/3", dst_path=tempfile.mkdtemp())
with open(os.path.join(local, "clf-3.bin")) as fh:
    out["read_bytes"] = fh.read()
note = os.path.join(tempfile.mkdtemp(), "note.txt")
with open(note, "w") as fh:
    fh.write("no")

writes = {
    "create_experiment": lambda: client.create_experiment("viewer-exp"),
    "create_run": lambda: client.create_run(experiment_id),
    "log_metric": lambda: client.log_metric(run_id, "x", 1.0),
    "log_param": lambda: client.log_param(run_id, "y", "1"),
    "set_tag": lambda: client.set_tag(run_id, "t", "v"),
    "log_batch": lambda: client.log_batch(run_id, [Metric("m", 1.0, 0, 0)], [Param("p", "1")]),
    "update_run": lambda: client.set_terminated(run_id, "FAILED"),
    "delete_run": lambda: client.delete_run(run_id),
    "log_artifact": lambda: client.log_artifact(run_id, note),
    "create_logged_model": lambda: client.create_logged_model(experiment_id, name="m"),
    "create_registered_model": lambda: client.create_registered_model("viewer-model"),
    "create_model_version": lambda: client.create_model_version(
        "clf", f"runs:/{run_id}/plots", run_id
    ),
    "transition": lambda: client.transition_model_version_stage("clf", "1", "Staging"),
    "set_alias": lambda: client.set_registered_model_alias("clf", "mine", "1"),
    "delete_alias": lambda: client.delete_registered_model_alias("clf", "mine"),
    "set_version_tag": lambda: client.set_model_version_tag("clf", "1", "k", "v"),
    "delete_version": lambda: client.delete_model_version("clf", "1"),
}
refused = {}
for name, write in writes.items():
    try:
        write()
        refused[name] = "done"
    except MlflowException as exc:
        refused[name] = exc.error_code
    except HTTPError as exc:  # the artifact store's client raises plain HTTP errors
        refused[name] = exc.response.status_code
out["refused"] = refused
out["after"] = client.get_run(run_id).data.params
print(json.dumps(out))
