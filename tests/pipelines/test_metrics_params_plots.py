"""Metrics, params and plots: now, at git revisions and branches, and across model versions."""

from __future__ import annotations

import json
from pathlib import Path

from factories import assert_one_line_error, commit_all, git, write

PIPELINE = """\
stages:
  train:
    cmd: python train.py
    params: [train.lr, train.epochs]
    outs: [model.bin]
    metrics: [metrics.json]
    plots: [{plots/roc.json: {x: fpr, y: tpr, title: ROC}}]
"""


def _roc(points: list[tuple[float, float]]) -> str:
    return json.dumps({"roc": [{"fpr": x, "tpr": y, "threshold": 0.5} for x, y in points]})


def _two_branches(ws) -> None:  # type: ignore[no-untyped-def]
    """main: lr 0.1, auc 0.80; feature/weather-features: lr 0.05, auc 0.86."""
    write(ws.root / "strata.yaml", PIPELINE)
    write(ws.root / "params.yaml", "train:\n  lr: 0.1\n  epochs: 10\n")
    write(ws.root / "metrics.json", json.dumps({"auc": 0.80, "loss": {"val": 0.5}}))
    write(ws.root / "plots" / "roc.json", _roc([(0, 0), (0.2, 0.6), (1, 1)]))
    commit_all(ws.root, "baseline")
    git(ws.root, "checkout", "-q", "-b", "feature/weather-features")
    write(ws.root / "params.yaml", "train:\n  lr: 0.05\n  epochs: 10\n")
    write(ws.root / "metrics.json", json.dumps({"auc": 0.86, "loss": {"val": 0.4}}))
    write(ws.root / "plots" / "roc.json", _roc([(0, 0), (0.1, 0.7), (1, 1)]))
    commit_all(ws.root, "weather features")
    git(ws.root, "checkout", "-q", "main")


def test_params_diff_between_branches(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    _two_branches(ws)
    rows = cli("params", "diff", "main", "feature/weather-features", "--json", cwd=ws.root).json()
    [row] = rows  # type: ignore[misc]
    assert (row["path"], row["key"], row["old"], row["new"]) == (
        "params.yaml",
        "train.lr",
        0.1,
        0.05,
    )
    assert abs(row["change"] + 0.05) < 1e-12
    everything = cli(
        "params", "diff", "main", "feature/weather-features", "--all", "--json", cwd=ws.root
    ).json()
    assert {r["key"] for r in everything} == {"train.lr", "train.epochs"}  # type: ignore[union-attr]


def test_metrics_diff_between_branches_as_markdown(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    _two_branches(ws)
    outcome = cli("metrics", "diff", "main", "feature/weather-features", "--md", cwd=ws.root)
    assert outcome.code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert lines[0] == "| Path | Key | main | feature/weather-features | Change |"
    assert "| metrics.json | auc | 0.8 | 0.86 | +0.06 |" in lines
    assert "| metrics.json | loss.val | 0.5 | 0.4 | -0.1 |" in lines


def test_metrics_diff_defaults_to_head_against_the_workspace(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    _two_branches(ws)
    write(ws.root / "metrics.json", json.dumps({"auc": 0.9, "loss": {"val": 0.5}}))
    rows = cli("metrics", "diff", "--json", cwd=ws.root).json()
    assert [(r["key"], r["old"], r["new"]) for r in rows] == [("auc", 0.8, 0.9)]  # type: ignore[union-attr,index]


def test_metrics_show_all_branches(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    _two_branches(ws)
    found = cli("metrics", "show", "--all-branches", "--json", cwd=ws.root).json()
    assert found == {
        "feature/weather-features": {"metrics.json": {"auc": 0.86, "loss.val": 0.4}},
        "main": {"metrics.json": {"auc": 0.8, "loss.val": 0.5}},
    }
    table = cli("metrics", "show", cwd=ws.root).stdout
    assert "workspace" in table and "auc" in table and "0.8" in table
    git(ws.root, "tag", "v1")
    tags = cli("metrics", "show", "--all-tags", "--json", cwd=ws.root).json()
    assert list(tags) == ["v1"]  # type: ignore[arg-type]


def test_params_show_at_a_revision(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    _two_branches(ws)
    found = cli("params", "show", "--rev", "feature/weather-features", "--json", cwd=ws.root).json()
    assert found == {
        "feature/weather-features": {"params.yaml": {"train.lr": 0.05, "train.epochs": 10}}
    }


def test_metrics_diff_across_model_versions(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    write(ws.root / "model.bin", b"one")
    ws.models.register("clf", ws.root / "model.bin", metrics={"auc": 0.8, "f1": 0.7})
    write(ws.root / "model.bin", b"two")
    ws.models.register("clf", ws.root / "model.bin", metrics={"auc": 0.85, "f1": 0.7})
    rows = cli("metrics", "diff", "model:clf@1", "model:clf@2", "--json", cwd=ws.root).json()
    assert [(r["path"], r["key"], r["old"], r["new"]) for r in rows] == [("clf", "auc", 0.8, 0.85)]  # type: ignore[union-attr,index]
    outcome = cli("metrics", "diff", "model:clf@1", "main", cwd=ws.root)
    assert_one_line_error(outcome, 2, "two model versions")
    assert_one_line_error(
        cli("metrics", "diff", "model:clf@1", "model:clf@9", cwd=ws.root), 30, "clf@9"
    )


def test_a_revision_that_does_not_exist_is_named(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    _two_branches(ws)
    assert_one_line_error(
        cli("params", "diff", "main", "nope", cwd=ws.root), 11, "'nope' does not exist"
    )
    assert_one_line_error(cli("metrics", "show", "--rev", "nope", cwd=ws.root), 11, "'nope'")
    assert_one_line_error(cli("plots", "diff", "nope", cwd=ws.root), 11, "'nope'")


def test_a_metrics_file_that_cannot_be_parsed_is_named(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    _two_branches(ws)
    write(ws.root / "metrics.json", "{not json")
    assert_one_line_error(cli("metrics", "show", cwd=ws.root), 61, "cannot parse metrics.json:1")


def test_plots_diff_writes_a_png_per_plot(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    _two_branches(ws)
    out = ws.root.parent / "out"
    outcome = cli(
        "plots",
        "diff",
        "main",
        "feature/weather-features",
        "--out",
        str(out),
        "--json",
        cwd=ws.root,
    )
    assert outcome.code == 0, outcome.stderr
    data = outcome.json()
    [png] = data["files"]  # type: ignore[index]
    head = Path(png).read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert (width, height) == (640, 480)
    [plot] = data["plots"]  # type: ignore[index]
    assert [s["revision"] for s in plot["series"]] == ["main", "feature/weather-features"]
    assert plot["series"][1]["y"] == [0, 0.7, 1]
    assert (plot["x"], plot["y"], plot["title"]) == ("fpr", "tpr", "ROC")


def test_plots_show_as_html_holds_every_series(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    _two_branches(ws)
    write(ws.root / "plots" / "roc.json", _roc([(0, 0), (0.3, 0.42), (1, 1)]))
    out = ws.root.parent / "html"
    outcome = cli(
        "plots",
        "show",
        "--rev",
        "main",
        "--rev",
        "feature/weather-features",
        "--format",
        "html",
        "--out",
        str(out),
        cwd=ws.root,
    )
    assert outcome.code == 0, outcome.stderr
    page = (out / "index.html").read_text()
    assert page.count('<img alt="plots/roc.json" src="data:image/png;base64,') == 1
    data = page.split('id="strata-plot-data">')[1].split("</script>")[0]
    [plot] = json.loads(data)
    assert [s["revision"] for s in plot["series"]] == ["main", "feature/weather-features"]
    assert plot["series"][0]["y"] == [0, 0.6, 1]


def test_plots_of_a_csv_file_and_no_plots(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    write(ws.root / "loss.csv", "step,loss\n1,0.9\n2,0.5\n3,0.3\n")
    out = ws.root.parent / "csv"
    outcome = cli("plots", "show", "--path", "loss.csv", "--out", str(out), "--json", cwd=ws.root)
    assert outcome.code == 0, outcome.stderr
    [plot] = outcome.json()["plots"]  # type: ignore[index]
    assert plot["series"][0]["x"] == [1, 2, 3] and plot["series"][0]["y"] == [0.9, 0.5, 0.3]
    assert_one_line_error(
        cli("plots", "show", "--path", "none.csv", cwd=ws.root), 60, "no plots found"
    )
    blocked = write(ws.root.parent / "a-file", "x")
    assert_one_line_error(
        cli("plots", "show", "--path", "loss.csv", "--out", str(blocked), cwd=ws.root),
        60,
        "cannot write plots to",
    )
