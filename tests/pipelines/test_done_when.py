"""The issue's done-when: prepare data into a table, featurize, train and register a model;
repro runs it, reruns only what a change touched, and provenance shows every stage's run."""

from __future__ import annotations

import sys

import pytest
import yaml

from factories import write

PREPARE = """\
from strata import Workspace

with Workspace(".") as ws:
    if "deliveries" in {t.name for t in ws.tables.list()}:
        ws.table("deliveries").overwrite("data/raw.csv")
    else:
        ws.tables.create("deliveries", "data/raw.csv")
"""
FEATURIZE = """\
import yaml
from strata import Workspace

scale = yaml.safe_load(open("params.yaml"))["featurize"]["scale"]
with Workspace(".") as ws:
    rows = ws.tables.read_data("table:deliveries@latest").to_pylist()
with open("data/features.csv", "w") as fh:
    fh.write("distance,delay\\n")
    for row in rows:
        fh.write(f"{row['distance_km'] * scale},{row['delay_min']}\\n")
"""
TRAIN = """\
import csv, json, os
import yaml
from strata import Workspace

lr = yaml.safe_load(open("params.yaml"))["train"]["lr"]
rows = list(csv.DictReader(open("data/features.csv")))
weight = lr * sum(float(r["delay"]) for r in rows) / sum(float(r["distance"]) for r in rows)
os.makedirs("models", exist_ok=True)
json.dump({"weight": weight}, open("models/clf.json", "w"))
json.dump({"weight": weight, "rows": len(rows)}, open("metrics.json", "w"))
with Workspace(".") as ws:
    ws.models.register("delay-classifier", "models/clf.json", metrics={"weight": weight})
"""
PIPELINE = """\
stages:
  prepare:
    cmd: {python} prepare.py
    deps: [data/raw.csv, prepare.py]
    outs: [table:deliveries]
  featurize:
    cmd: {python} featurize.py
    deps: [table:deliveries@latest, featurize.py]
    params: [featurize.scale]
    outs: [data/features.csv]
  train:
    cmd: {python} train.py
    deps: [data/features.csv, train.py]
    params: [train.lr]
    outs: [models/clf.json, model:delay-classifier]
    metrics: [metrics.json]
"""


@pytest.mark.slow
def test_three_stages_rerun_only_what_changed_and_provenance_shows_every_stage(
    make_workspace,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    ws = make_workspace()
    write(ws.root / "strata.yaml", PIPELINE.format(python=sys.executable))
    write(ws.root / "params.yaml", "featurize:\n  scale: 1.0\ntrain:\n  lr: 0.1\n")
    write(ws.root / "data" / "raw.csv", "distance_km,delay_min\n10,5\n20,12\n")
    write(ws.root / "prepare.py", PREPARE)
    write(ws.root / "featurize.py", FEATURIZE)
    write(ws.root / "train.py", TRAIN)

    first = ws.pipelines.repro()
    assert [(s.name, s.action) for s in first.stages] == [
        ("prepare", "ran"),
        ("featurize", "ran"),
        ("train", "ran"),
    ]
    lock = yaml.safe_load((ws.root / "strata.lock").read_text())["stages"]
    assert lock["featurize"]["deps"]["table:deliveries@latest"] == "table:deliveries@0"
    assert lock["prepare"]["outs"]["table:deliveries"]["hash"] == "table:deliveries@0"
    assert lock["train"]["outs"]["model:delay-classifier"]["hash"] == "model:delay-classifier@1"

    outcome = cli("provenance", "model:delay-classifier@1", "--json", cwd=ws.root)
    assert outcome.code == 0, outcome.stderr
    chain = outcome.json()
    [producer] = chain["runs"]  # type: ignore[index]
    assert (producer["job"], producer["id"]) == ("train", first.stages[2].run)
    upstream = {r["ref"] for r in chain["upstream_runs"]}  # type: ignore[index]
    assert upstream == {f"run:{s.run}" for s in first.stages[:2]}  # prepare and featurize
    data = {d["ref"] for d in chain["data"]}  # type: ignore[index]
    assert "table:deliveries@0" in data
    assert any(ref.startswith("file:data/features.csv@") for ref in data)
    text = cli("provenance", "model:delay-classifier@1", cwd=ws.root).stdout
    assert f"run:{first.stages[2].run} train" in text

    write(ws.root / "params.yaml", "featurize:\n  scale: 1.0\ntrain:\n  lr: 0.2\n")
    second = ws.pipelines.repro()
    assert [s.action for s in second.stages] == ["unchanged", "unchanged", "ran"]
    assert ws.models.resolve("model:delay-classifier@latest").number == 2

    write(ws.root / "data" / "raw.csv", "distance_km,delay_min\n10,5\n20,12\n30,20\n")
    third = ws.pipelines.repro()
    assert [s.action for s in third.stages] == ["ran", "ran", "ran"]
    assert ws.table("deliveries").latest_version() == 1
    lock = yaml.safe_load((ws.root / "strata.lock").read_text())["stages"]
    assert lock["train"]["outs"]["model:delay-classifier"]["hash"] == "model:delay-classifier@3"
    assert ws.models.show("model:delay-classifier@3").metrics["weight"] == pytest.approx(
        0.2 * 37 / 60
    )
