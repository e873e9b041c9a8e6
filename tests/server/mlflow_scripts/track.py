"""A training script's tracking, as MLflow's client does it: experiment, runs, params,
metrics with history, tags, search; then the errors a client meets. Prints one JSON object."""

import json

import mlflow
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
}
out["history"] = [[m.step, m.value] for m in client.get_metric_history(run_id, "loss")]
with mlflow.start_run(run_name="second"):
    mlflow.log_metric("auc", 0.7)
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
