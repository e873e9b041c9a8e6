"""A registry to migrate from, made by MLflow's own client: runs with params, metric history,
tags, an input dataset and logged artifacts; registered models with descriptions, tags,
versions in stages, and aliases. ``more`` adds a version, moves an alias and a stage, and
deletes an alias. Prints one JSON object."""

import json
import os
import sys
import tempfile
import warnings

import mlflow
import mlflow.data.http_dataset_source
import mlflow.data.meta_dataset
import pandas
from mlflow import MlflowClient

warnings.simplefilter("ignore")  # transition_model_version_stage is deprecated, still served
client = MlflowClient()


def train(name, weights, loss):
    """A finished run that logged a model folder; its id and artifact URI."""
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_params({"lr": 0.1, "depth": len(weights)})
        for step, value in enumerate(loss):
            mlflow.log_metric("loss", value, step=step)
        mlflow.set_tag("team", "ml")
        mlflow.set_tag("mlflow.source.git.commit", "a" * 40)
        frame = pandas.DataFrame({"id": [1, 2], "delay": [1.0, 2.0]})
        mlflow.log_input(mlflow.data.from_pandas(frame, name="deliveries"), context="training")
        source = mlflow.data.http_dataset_source.HTTPDatasetSource("table:deliveries@0")
        mlflow.log_input(mlflow.data.meta_dataset.MetaDataset(source, name="strata"))
        work = tempfile.mkdtemp()
        os.makedirs(os.path.join(work, "model", "data"))
        for path, data in (("model/MLmodel", "flavors: {}\n"), ("model/data/w.bin", weights)):
            with open(os.path.join(work, path), "w") as fh:
                fh.write(data)
        mlflow.log_artifacts(os.path.join(work, "model"), artifact_path="model")
    return run.info.run_id, run.info.artifact_uri


def version(model, run_id, uri, description):
    made = client.create_model_version(
        model, f"{uri}/model", run_id=run_id, description=description, tags={"owner": "ana"}
    )
    return int(made.version)


out = {}
mlflow.set_experiment("train-clf")
if sys.argv[1:] == ["more"]:
    run_id, uri = train("third", "w3" * 50, [0.5, 0.2])
    out["v3"] = version("clf", run_id, uri, "third try")
    client.set_registered_model_alias("clf", "champion", str(out["v3"]))
    client.transition_model_version_stage("clf", "1", "Archived")
    client.delete_registered_model_alias("clf", "challenger")
else:
    client.create_registered_model("clf", description="delay classifier", tags={"team": "ml"})
    runs = [train("first", "w1" * 50, [0.9, 0.5, 0.3]), train("second", "w2" * 50, [0.8, 0.2])]
    for number, (run_id, uri) in enumerate(runs, 1):
        version("clf", run_id, uri, f"try {number}")
    client.transition_model_version_stage("clf", "1", "Staging")
    client.transition_model_version_stage("clf", "2", "Production")
    client.set_registered_model_alias("clf", "champion", "2")
    client.set_registered_model_alias("clf", "challenger", "1")
    client.create_registered_model("gone")
    run_id, uri = train("lost", "w0", [1.0])
    version("gone", run_id, uri, "artifacts deleted later")
    out["runs"] = [r for r, _ in runs]
    out["lost_artifacts"] = uri
print(json.dumps(out))
