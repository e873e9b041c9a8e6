"""The pipelines chapter of ``strata demo``: a two-stage pipeline, repro, a param change that
reruns only the stage using it, and the params and metrics diffs against the last commit.

The stages are small shell and awk commands, so the chapter needs nothing installed and runs
in a couple of seconds.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from strata.cli.demo_support import git
from strata.pipelines.repro import ReproResult
from strata.workspace import Workspace

PIPELINE = """\
# The delivery-delay pipeline: each stage runs only when its inputs change.
stages:
  featurize:
    desc: distance in km -> a scaled feature per delivery
    cmd: sh pipeline/featurize.sh ${featurize.scale}
    deps: [pipeline/raw.csv, pipeline/featurize.sh]
    params: [featurize.scale]
    outs: [pipeline/features.txt]
  train:
    desc: fit a (very) small model and score it
    cmd: sh pipeline/train.sh
    deps: [pipeline/features.txt, pipeline/train.sh]
    params: [train.lr]
    outs: [pipeline/model.txt]
    metrics: [pipeline/metrics.json]
"""
FEATURIZE = """\
awk -F, -v scale="$1" 'NR > 1 {print $2 * scale}' pipeline/raw.csv > pipeline/features.txt
"""
TRAIN = """\
lr=$(awk '/^  lr:/ {print $2}' params.yaml)
awk -v lr="$lr" '{s += $1} END {printf "%.6f\\n", lr * s / NR}' \\
  pipeline/features.txt > pipeline/model.txt
awk -v lr="$lr" '{s += $1} END {printf "{\\"score\\": %.4f, \\"rows\\": %d}\\n", \\
  1 / (1 + lr * s / NR), NR}' pipeline/features.txt > pipeline/metrics.json
"""
RAW = "delivery_id,distance_km\n1,4.2\n2,12.5\n3,7.9\n4,21.0\n"


def _params(lr: float) -> str:
    return f"featurize:\n  scale: 0.1\ntrain:\n  lr: {lr}\n"


def chapter(ws: Workspace, say: Callable[[str], None]) -> None:
    root = ws.root
    (root / "pipeline").mkdir(exist_ok=True)
    (root / "pipeline" / "raw.csv").write_text(RAW)
    (root / "pipeline" / "featurize.sh").write_text(FEATURIZE)
    (root / "pipeline" / "train.sh").write_text(TRAIN)
    (root / "params.yaml").write_text(_params(0.5))
    (root / "strata.yaml").write_text(PIPELINE)
    say("strata.yaml describes two stages, featurize -> train; params.yaml holds their params.")

    def report(label: str, result: ReproResult) -> None:
        for outcome in result.stages:
            run = f" as run:{outcome.run}" if outcome.action == "ran" else ""
            why = f" ({', '.join(outcome.reasons)})" if outcome.reasons else ""
            say(f"  {label}: {outcome.name} {outcome.action}{run}{why}")

    report("strata repro", ws.pipelines.repro(stage_output=subprocess.DEVNULL))
    say("Each stage ran as a recorded run; strata.lock holds the exact hash of every input,")
    say("param value and output, and the outputs are tracked like `strata add`.")
    if ws.git is not None:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "Delivery-delay pipeline")
    report("strata repro again", ws.pipelines.repro())

    (root / "params.yaml").write_text(_params(0.25))
    say("Halve the learning rate in params.yaml and repro: only train uses it.")
    report("strata repro", ws.pipelines.repro(stage_output=subprocess.DEVNULL))
    if ws.git is None:
        return
    for row in ws.pipelines.params_diff():
        say(f"  strata params diff: {row.key} {row.old} -> {row.new} (against HEAD)")
    for row in ws.pipelines.metrics_diff():
        say(f"  strata metrics diff: {row.key} {row.old} -> {row.new} ({row.change:+.4f})")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Train with a lower learning rate")
