"""strata.yaml: stages, params forms, templating, and errors naming file, line and key."""

from __future__ import annotations

import pytest

from strata.errors import PipelineFileError
from strata.pipelines import ParamKey, parse_pipeline


def _files(**files: str) -> object:
    def read(name: str) -> bytes | None:
        text = files.get(name.replace(".", "_").replace("/", "__"))
        return None if text is None else text.encode()

    return read


def parse(text: str, **files: str):  # type: ignore[no-untyped-def]
    return parse_pipeline(text, _files(**files))  # type: ignore[arg-type]


def test_a_stage_with_every_field() -> None:
    pipeline = parse(
        """
stages:
  train:
    cmd: python train.py
    wdir: src
    desc: fits the model
    deps: [train.py, ../data/features.csv, table:deliveries@latest, model:base@production]
    params: [train.lr, other.yaml:seed, {conf.toml: [a.b, c]}]
    outs: [../models/clf.json, table:scores]
    metrics: [../metrics.json]
    plots: [../plots/roc.json, {../plots/loss.csv: {x: step, y: loss, title: Loss}}]
    frozen: true
"""
    )
    stage = pipeline.stages["train"]
    assert stage.cmd == "python train.py"
    assert stage.wdir == "src"
    assert stage.deps == (
        "src/train.py",
        "data/features.csv",
        "table:deliveries@latest",
        "model:base@production",
    )
    assert stage.params == (
        ParamKey("params.yaml", "train.lr"),
        ParamKey("other.yaml", "seed"),
        ParamKey("conf.toml", "a.b"),
        ParamKey("conf.toml", "c"),
    )
    assert stage.outs == ("models/clf.json", "table:scores")
    assert stage.path_outs == ("models/clf.json",)
    assert stage.metrics == ("metrics.json",)
    assert [(p.path, p.x, p.y, p.title) for p in stage.plots] == [
        ("plots/roc.json", None, None, None),
        ("plots/loss.csv", "step", "loss", "Loss"),
    ]
    assert stage.frozen is True
    assert stage.desc == "fits the model"
    assert stage.line == 4


def test_foreach_over_a_list_from_vars_and_a_mapping() -> None:
    pipeline = parse(
        """
vars:
  - regions: [north, south]
  - extra.yaml
stages:
  clean:
    foreach: ${regions}
    do:
      cmd: python clean.py ${item} --lr ${train.lr} --k ${k}
      outs: ["data/${item}.csv"]
  fit:
    foreach:
      small: {depth: 2}
      big: {depth: 8}
    do:
      cmd: python fit.py --depth ${item.depth}
      outs: ["models/${key}.json"]
""",
        params_yaml="train:\n  lr: 0.1\n",
        extra_yaml="k: 7\n",
    )
    assert list(pipeline.stages) == ["clean@north", "clean@south", "fit@small", "fit@big"]
    assert pipeline.stages["clean@south"].cmd == "python clean.py south --lr 0.1 --k 7"
    assert pipeline.stages["clean@south"].outs == ("data/south.csv",)
    assert pipeline.stages["fit@big"].cmd == "python fit.py --depth 8"
    assert pipeline.stages["fit@big"].outs == ("models/big.json",)


@pytest.mark.parametrize(
    ("text", "line", "fragments"),
    [
        ("stages:\n  a:\n    cmd: x\n    deps: [../../etc/passwd]\n", 4, ["stages.a.deps", ".."]),
        ("stages:\n  a:\n    cmd: x\n    outs: [/abs/path]\n", 4, ["stages.a.outs", "absolute"]),
        ("stages:\n  a:\n    cmd: x\n    colour: red\n", 4, ["stages.a.colour", "unknown key"]),
        ("stages:\n  a:\n    deps: [x]\n", 3, ["stages.a", "no `cmd`"]),
        ("stages:\n  a:\n    cmd: run ${nope}\n", 3, ["stages.a.cmd", "${nope} is not defined"]),
        ("stages:\n  a:\n    cmd: x\n    frozen: maybe\n", 4, ["stages.a.frozen", "true or false"]),
        ("stages:\n  a:\n    cmd: x\n    deps: [run:01ABC]\n", 4, ["stages.a.deps", "only table:"]),
        (
            "stages:\n  a:\n    cmd: x\n    deps: [table:bad name]\n",
            4,
            ["stages.a.deps", "bad ref"],
        ),
        ("stages:\n  a:\n    cmd: !!python/object:os.system x\n", 3, ["stages.a.cmd", "tags"]),
        ("stages:\n  a:\n    cmd: x\n  a:\n    cmd: y\n", 4, ["stages", "appears twice"]),
        ("stages:\n  a:\n    foreach: [1]\n    cmd: x\n", 4, ["stages.a.cmd", "beside foreach"]),
        ("stages:\n  a:\n    cmd: x\n    outs: [.strata/cache]\n", 4, ["Strata's own folder"]),
        ("stages:\n  a b:\n    cmd: x\n", 3, ["stages.a b", "bad stage name"]),
        ("stagez:\n  a:\n    cmd: x\n", 2, ["stagez", "unknown key"]),
        ("stages:\n  a:\n    cmd: [x\n", 4, ["not valid YAML"]),
    ],
)
def test_a_malformed_file_names_the_line_and_key(
    text: str, line: int, fragments: list[str]
) -> None:
    with pytest.raises(PipelineFileError) as caught:
        parse(text)
    message = caught.value.message
    assert message.startswith(f"strata.yaml:{line}:"), message
    for fragment in fragments:
        assert fragment in message


def test_an_unparsable_params_file_used_for_vars_is_named() -> None:
    with pytest.raises(PipelineFileError, match=r"cannot parse params\.yaml:\d"):
        parse("stages:\n  a:\n    cmd: x\n", params_yaml="a: 1\nb: [unclosed\n")


def test_an_empty_file_is_an_empty_pipeline() -> None:
    assert parse("").stages == {}
    assert parse("stages: {}\n").stages == {}


def _laughs(levels: int) -> str:
    """vars whose aliases repeat aliases: 9**levels strings once expanded."""
    lines = ['vars:\n  - l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n']
    for level in range(1, levels + 1):
        lines.append(f"    l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]\n")
    return "".join(lines) + "stages:\n  a:\n    cmd: x\n"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (_laughs(9), "expands to more than"),
        ("vars:\n  - a: &a [1, *a]\n", "contains itself"),
        ("vars:\n  - a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested more than"),
        ("vars:\n  - a: &a 1\n    b: [" + ", ".join(["*a"] * 10_001) + "]\n", "aliases more"),
    ],
)
def test_a_yaml_bomb_in_vars_is_refused_in_one_line(text: str, fragment: str) -> None:
    with pytest.raises(PipelineFileError) as caught:
        parse(text)
    message = caught.value.message
    assert message.startswith("strata.yaml: refused:"), message
    assert fragment in message and "\n" not in message


def test_a_yaml_bomb_in_a_vars_file_is_refused() -> None:
    bomb = _laughs(9).replace("vars:\n  - ", "").replace("\n    ", "\n").split("stages:")[0]
    with pytest.raises(PipelineFileError, match=r"cannot parse bomb.yaml: refused: expands"):
        parse("vars:\n  - bomb.yaml\nstages:\n  a:\n    cmd: x\n", bomb_yaml=bomb)


def test_aliases_within_the_bounds_still_work() -> None:
    pipeline = parse(
        "vars:\n  - base: &base [north, south]\n    again: *base\n"
        "stages:\n  a:\n    foreach: ${again}\n    do:\n      cmd: run ${item}\n"
    )
    assert list(pipeline.stages) == ["a@north", "a@south"]
