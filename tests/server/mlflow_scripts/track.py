"""A training script's tracking, as MLflow's client does it: experiment, runs, params,
metrics with history, tags, artifacts (one over the server's body limit), search; then the
errors a client meets. Prints one JSON object."""

import hashlib
import json
import os
import tempfile

import mlflow
import mlflow.data.http_dataset_source
import mlflow.data.meta_dataset
import pandas
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException


def error_code(call):
    try:
        call()
    except MlflowException as exc:
        return exc.error_code
    return None


out = {}
experiment = mlflow.set_experiment("train-clf")
out["artifact_location"] = experiment.artifact_location
with mlflow.start_run(run_name="first") as run:
    mlflow.log_param("lr", 0.1)
    mlflow.log_params({"depth": 3, "algo": "tree"})
    for step, loss in enumerate([0.9, 0.5, 0.3]):
        mlflow.log_metric("loss", loss, step=step)
    mlflow.log_metrics({"auc": 0.91})
    mlflow.set_tag("team", "ml")
    frame = pandas.DataFrame({"id": [1, 2], "delay": [1.0, 2.0]})
    mlflow.log_input(mlflow.data.from_pandas(frame, name="deliveries"), context="training")
    source = mlflow.data.meta_dataset.MetaDataset(
        mlflow.data.http_dataset_source.HTTPDatasetSource("table:deliveries@0"), name="strata"
    )
    mlflow.log_input(source)  # a source that names a Strata ref
    work = tempfile.mkdtemp()
    with open(os.path.join(work, "notes.txt"), "w") as fh:
        fh.write("trained on deliveries")
    mlflow.log_artifact(os.path.join(work, "notes.txt"))
    os.makedirs(os.path.join(work, "plots", "deep"))
    for name, data in (("a.txt", "A"), ("deep/b.txt", "BB")):
        with open(os.path.join(work, "plots", name), "w") as fh:
            fh.write(data)
    mlflow.log_artifacts(os.path.join(work, "plots"), artifact_path="plots")
    big = os.urandom(17 * 1024 * 1024)  # over the 16 MiB limit on other request bodies
    with open(os.path.join(work, "big.bin"), "wb") as fh:
        fh.write(big)
    mlflow.log_artifact(os.path.join(work, "big.bin"), artifact_path="data")
run_id = run.info.run_id
client = MlflowClient()
got = client.get_run(run_id)
out["run_id"] = run_id
out["run"] = {
    "status": got.info.status,
    "name": got.info.run_name,
    "user": got.info.user_id,
    "ended": got.info.end_time is not None,
    "artifact_uri": got.info.artifact_uri,
    "params": got.data.params,
    "metrics": got.data.metrics,
    "tags": {k: v for k, v in got.data.tags.items() if not k.startswith("mlflow.")},
    "inputs": sorted(d.dataset.source for d in got.inputs.dataset_inputs),
}
listed = client.list_artifacts(run_id)
out["listed"] = [[f.path, f.is_dir, f.file_size] for f in listed]
out["listed_plots"] = [[f.path, f.is_dir] for f in client.list_artifacts(run_id, "plots")]
back = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=tempfile.mkdtemp())
with open(os.path.join(back, "data", "big.bin"), "rb") as fh:
    out["big_same"] = hashlib.sha256(fh.read()).digest() == hashlib.sha256(big).digest()
with open(os.path.join(back, "plots", "deep", "b.txt")) as fh:
    out["nested"] = fh.read()
out["history"] = [[m.step, m.value] for m in client.get_metric_history(run_id, "loss")]
with mlflow.start_run(run_name="second") as second:
    mlflow.log_metric("auc", 0.7)
    mlflow.log_artifact(os.path.join(work, "notes.txt"))  # the same bytes again
out["second_run_id"] = second.info.run_id
found = mlflow.search_runs(
    experiment_names=["train-clf"], filter_string="metrics.auc > 0.8", output_format="list"
)
out["search"] = [r.info.run_name for r in found]
ordered = mlflow.search_runs(
    experiment_names=["train-clf"], order_by=["metrics.auc ASC"], output_format="list"
)
out["ordered"] = [r.info.run_name for r in ordered]
out["experiments"] = sorted(e.name for e in client.search_experiments())
out["errors"] = {
    "missing_run": error_code(lambda: client.get_run("no-such-run")),
    "missing_experiment": error_code(lambda: client.get_experiment("12345")),
    "duplicate_experiment": error_code(lambda: client.create_experiment("train-clf")),
    "param_changed": error_code(lambda: client.log_param(run_id, "lr", "0.2")),
    "bad_filter": error_code(
        lambda: client.search_runs([experiment.experiment_id], filter_string="metrics.auc >")
    ),
}
print(json.dumps(out))
