"""A small three-stage pipeline of shell commands, for the repro tests."""

from __future__ import annotations

from pathlib import Path

from factories import write

PIPELINE = """\
stages:
  prepare:
    cmd: mkdir -p data/clean && tr a-z A-Z < data/raw.txt > data/clean/raw.txt
    deps: [data/raw.txt]
    outs: [data/clean]
  featurize:
    cmd: sh featurize.sh
    deps: [data/clean, featurize.sh]
    params: [featurize.n]
    outs: [data/features.txt]
  train:
    cmd: sh train.sh
    deps: [data/features.txt, train.sh]
    params: [train.lr]
    outs: [model.txt]
    metrics: [metrics.json]
"""

FEATURIZE = (
    "cat data/clean/raw.txt > data/features.txt\n"
    "grep -A1 '^featurize:' params.yaml >> data/features.txt\n"
)
TRAIN = (
    "cat data/features.txt params.yaml > model.txt\n"
    'printf \'{"size": %s, "lr": %s}\\n\' $(wc -c < model.txt) '
    "$(grep '  lr:' params.yaml | cut -d: -f2) > metrics.json\n"
)


def params(n: int = 3, lr: float = 0.1) -> str:
    return f"featurize:\n  n: {n}\ntrain:\n  lr: {lr}\n"


def make_pipeline(root: Path, *, train: str = TRAIN) -> None:
    write(root / "strata.yaml", PIPELINE)
    write(root / "params.yaml", params())
    write(root / "data" / "raw.txt", "a b c\n")
    write(root / "featurize.sh", FEATURIZE)
    write(root / "train.sh", train)


def actions(result: object) -> dict[str, str]:
    return {s.name: s.action for s in result.stages}  # type: ignore[attr-defined]
