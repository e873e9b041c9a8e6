"""strata stage add writes a checked stage; strata dag draws the graph."""

from __future__ import annotations

from factories import assert_one_line_error, snapshot, write
from pipeline_helpers import make_pipeline
from strata.pipelines import ParamKey
from strata.pipelines.repro import load_pipeline


def test_stage_add_writes_a_stage_that_parses_back(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    outcome = cli(
        "stage", "add", "train", "--cmd", "python train.py",
        "-d", "data/features.csv", "-d", "table:deliveries@latest",
        "-p", "train.lr", "-p", "conf.yaml:seed",
        "-o", "models/clf.json", "-M", "metrics.json", "--plots", "plots/roc.json",
        "--desc", "fit it", "--json",
        cwd=ws.root,
    )  # fmt: skip
    assert outcome.code == 0, outcome.stderr
    stage = load_pipeline(ws.root).stages["train"]
    assert stage.deps == ("data/features.csv", "table:deliveries@latest")
    assert stage.params == (ParamKey("params.yaml", "train.lr"), ParamKey("conf.yaml", "seed"))
    assert stage.outs == ("models/clf.json",)
    assert stage.metrics == ("metrics.json",)
    assert stage.desc == "fit it"
    assert outcome.json()["name"] == "train"  # type: ignore[index]


def test_stage_add_keeps_the_files_comments(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    write(
        ws.root / "strata.yaml",
        "# our pipeline\nstages:\n  a:  # first\n    cmd: echo a > a.txt\n    outs: [a.txt]\n",
    )
    assert (
        cli(
            "stage",
            "add",
            "b",
            "--cmd",
            "cat a.txt > b.txt",
            "-d",
            "a.txt",
            "-o",
            "b.txt",
            cwd=ws.root,
        ).code
        == 0
    )
    text = (ws.root / "strata.yaml").read_text()
    assert text.startswith("# our pipeline\n") and "# first" in text
    assert list(load_pipeline(ws.root).stages) == ["a", "b"]


def test_stage_add_refuses_an_existing_name_a_cycle_and_a_clash(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    before = snapshot(ws.root)
    assert_one_line_error(
        cli("stage", "add", "train", "--cmd", "x", cwd=ws.root), 60, "already exists", "--force"
    )
    outcome = cli(
        "stage", "add", "loop", "--cmd", "x", "-d", "model.txt", "-o", "data/raw.txt", cwd=ws.root
    )
    assert_one_line_error(outcome, 62, "cycle")
    outcome = cli("stage", "add", "two", "--cmd", "x", "-o", "model.txt", cwd=ws.root)
    assert_one_line_error(outcome, 62, "write model.txt")
    outcome = cli("stage", "add", "bad", "--cmd", "x", "-o", "../outside", cwd=ws.root)
    assert_one_line_error(outcome, 61, "stages.bad.outs", "inside the workspace")
    assert snapshot(ws.root) == before


def test_stage_add_force_replaces_a_stage(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    outcome = cli(
        "stage", "add", "train", "--cmd", "echo new", "-o", "model.txt", "--force", cwd=ws.root
    )
    assert outcome.code == 0, outcome.stderr
    assert load_pipeline(ws.root).stages["train"].cmd == "echo new"
    assert list(load_pipeline(ws.root).stages) == ["prepare", "featurize", "train"]


def test_dag_in_text_dot_mermaid_and_json(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    text = cli("dag", cwd=ws.root).stdout
    assert text.splitlines() == ["prepare", "featurize  <- prepare", "train  <- featurize"]
    dot = cli("dag", "--format", "dot", cwd=ws.root).stdout
    assert '"prepare" -> "featurize";' in dot and '"featurize" -> "train";' in dot
    mermaid = cli("dag", "--format", "mermaid", cwd=ws.root).stdout
    assert mermaid.startswith("flowchart LR") and "s0 --> s1" in mermaid and "s1 --> s2" in mermaid
    data = cli("dag", "--json", cwd=ws.root).json()
    assert data == {
        "stages": ["prepare", "featurize", "train"],
        "edges": [["prepare", "featurize"], ["featurize", "train"]],
    }
    assert_one_line_error(cli("dag", "--format", "svg", cwd=ws.root), 2, "bad --format")


def test_stage_list_in_run_order(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    names = [s["name"] for s in cli("stage", "list", "--json", cwd=ws.root).json()]  # type: ignore[union-attr]
    assert names == ["prepare", "featurize", "train"]


def test_repro_json_reports_each_stage_and_keeps_stdout_clean(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    outcome = cli("repro", "featurize", "--json", cwd=ws.root)
    assert outcome.code == 0, outcome.stderr
    stages = outcome.json()["stages"]  # type: ignore[index]
    assert [(s["stage"], s["action"]) for s in stages] == [("prepare", "ran"), ("featurize", "ran")]
    assert all(s["run"] for s in stages)
    dry = cli("repro", "--dry-run", "--json", cwd=ws.root).json()["stages"]  # type: ignore[index]
    assert [s["action"] for s in dry] == ["unchanged", "unchanged", "would run"]
    assert dry[2]["reasons"] == ["never ran"]
