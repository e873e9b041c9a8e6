"""A training script that registers, promotes, aliases, downloads and loads models through
MLflow's client, and reads a model the Strata CLI registered. Prints one JSON object."""

import hashlib
import json
import os
import tempfile

import mlflow
import mlflow.data.http_dataset_source
import mlflow.data.meta_dataset
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * x for x in model_input]


def error_code(call):
    try:
        call()
    except MlflowException as exc:
        return [exc.error_code, str(exc.message)]
    return None


def digests(folder):
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as fh:
                found[os.path.relpath(path, folder)] = hashlib.sha256(fh.read()).hexdigest()
    return found


client = MlflowClient()
out = {}
mlflow.set_experiment("registry-demo")
with mlflow.start_run() as run:
    mlflow.log_param("scale", 2)
    mlflow.log_metric("auc", 0.93)
    source = mlflow.data.http_dataset_source.HTTPDatasetSource("table:deliveries@0")
    mlflow.log_input(mlflow.data.meta_dataset.MetaDataset(source, name="deliveries"))
    logged = mlflow.pyfunc.log_model(
        name="model", python_model=Doubler(), registered_model_name="doubler"
    )
    raw = os.path.join(tempfile.mkdtemp(), "raw")  # saved, then logged as plain artifacts
    mlflow.pyfunc.save_model(raw, python_model=Doubler())
    mlflow.log_artifacts(raw, artifact_path="raw-model")
run_id = run.info.run_id
out["run_id"] = run_id
out["logged_model_id"] = logged.model_id
out["from_runs_path"] = mlflow.register_model(f"runs:/{run_id}/raw-model", "raw").version
out["from_logged_name"] = mlflow.register_model(f"runs:/{run_id}/model", "doubler").version

first = client.get_model_version("doubler", "1")
out["v1"] = {"status": first.status, "run_id": first.run_id, "stage": first.current_stage}
out["gate"] = error_code(
    lambda: client.transition_model_version_stage("doubler", "2", "Production")
)
client.transition_model_version_stage("doubler", "1", "Staging")
client.transition_model_version_stage("doubler", "1", "Production")
client.set_registered_model_alias("doubler", "champion", "2")
out["by_alias"] = client.get_model_version_by_alias("doubler", "champion").version
out["latest_production"] = [
    v.version for v in client.get_latest_versions("doubler", stages=["Production"])
]
client.set_registered_model_tag("doubler", "team", "ml")
client.set_registered_model_tag("doubler", "tier", "1")
client.delete_registered_model_tag("doubler", "tier")
model = client.get_registered_model("doubler")
out["registered"] = {
    "latest": sorted((v.current_stage, v.version) for v in model.latest_versions),
    "aliases": model.aliases,
    "tags": model.tags,
}
out["predictions"] = {
    uri: list(mlflow.pyfunc.load_model(uri).predict([1, 2]))
    for uri in (
        "models:/doubler/1",
        "models:/doubler/Production",
        "models:/doubler@champion",
        "models:/raw/1",
    )
}
out["download_uri"] = client.get_model_version_download_uri("doubler", "1")
out["downloaded"] = digests(
    mlflow.artifacts.download_artifacts("models:/doubler/1", dst_path=tempfile.mkdtemp())
)
cli = client.get_registered_model("clf")
out["cli_model"] = sorted(v.version for v in cli.latest_versions)
cli_files = mlflow.artifacts.download_artifacts("models:/clf/3", dst_path=tempfile.mkdtemp())
with open(os.path.join(cli_files, "clf-3.bin")) as fh:
    out["cli_bytes"] = fh.read()
out["searched"] = sorted(v.version for v in client.search_model_versions("name='doubler'"))
client.delete_registered_model_alias("doubler", "champion")
out["errors"] = {
    "missing_model": error_code(lambda: client.get_registered_model("nope")),
    "missing_version": error_code(lambda: client.get_model_version("doubler", "99")),
    "missing_alias": error_code(lambda: client.get_model_version_by_alias("doubler", "gone")),
    "duplicate_model": error_code(lambda: client.create_registered_model("doubler")),
    "missing_artifacts": error_code(
        lambda: client.create_model_version("x", f"runs:/{run_id}/nothing-here", run_id)
    ),
    "delete_version": error_code(lambda: client.delete_model_version("doubler", "1")),
}
print(json.dumps(out))
