"""Compare (question 3) and reproduce (question 4)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from factories import Cli, assert_one_line_error, commit_all, write
from lineage_support import FakeDescriber, wire
from strata import Workspace
from strata.errors import LineageError

STATS = {
    "table:deliveries@47": {"row_count": 1200, "schema_hash": "aaa", "columns": {"delay": "int"}},
    "table:deliveries@52": {"row_count": 1350, "schema_hash": "bbb",
                            "columns": {"delay": "float"}},
}  # fmt: skip


def _train(ws: Workspace, model: str, table: str, params: dict[str, object]) -> None:
    with ws.run("train", params=params) as run:
        run.input(table)
        run.output(model)


def test_only_the_data_changed(lws: Workspace) -> None:
    wire(lws, describers=[FakeDescriber(STATS)])
    _train(lws, "model:clf@3", "table:deliveries@47", {"lr": 0.1})
    _train(lws, "model:clf@4", "table:deliveries@52", {"lr": 0.1})
    result = lws.lineage.compare("model:clf@3", "model:clf@4")
    [row] = result["data"]
    assert row == {
        "name": "table:deliveries",
        "a": "47",
        "b": "52",
        "changed": True,
        "stats": {"row_count": [1200, 1350], "schema_hash": ["aaa", "bbb"]},
        "columns": {"delay": ["int", "float"]},
    }
    assert not result["code"]["changed"] and result["params"] == {}
    assert result["verdict"] == (
        "changed: data (table:deliveries 47 → 52); same code, params, environment"
    )


def test_the_code_and_params_changed(sqlite_ws: Workspace) -> None:
    _train(sqlite_ws, "model:clf@3", "table:deliveries@47", {"lr": 0.1})
    write(sqlite_ws.root / "train.py", "print('v2')\n")
    commit_all(sqlite_ws.root, "new model code")
    _train(sqlite_ws, "model:clf@4", "table:deliveries@47", {"lr": 0.2})
    result = sqlite_ws.lineage.compare("model:clf@3", "model:clf@4")
    assert result["code"]["changed"] and result["code"]["files_changed"] == ["train.py"]
    assert len(result["code"]["commits_between"]) == 1
    assert result["params"] == {"lr": [0.1, 0.2]}
    assert result["verdict"] == "changed: code; params (lr); same data, environment"


def test_compare_refuses_a_version_no_run_produced(sqlite_ws: Workspace) -> None:
    sqlite_ws.lineage.link("table:x@1", "model:clf@1")
    _train(sqlite_ws, "model:clf@2", "table:x@1", {})
    with pytest.raises(LineageError, match="no recorded run produced model:clf@1"):
        sqlite_ws.lineage.compare("model:clf@1", "model:clf@2")


TRAIN = """
import json, pathlib, yaml
params = yaml.safe_load(pathlib.Path("params.yaml").read_text())
rows = pathlib.Path("raw.csv").read_text().count("\\n")
pathlib.Path("model.txt").write_text(f"weights {params['lr'] * rows}\\n")
pathlib.Path("metrics.json").write_text(json.dumps({"rows": rows}))
"""


def _recorded_training(ws: Workspace) -> None:
    write(ws.root / "train.py", TRAIN)
    commit_all(ws.root, "training code")
    write(ws.root / "params.yaml", "lr: 0.5\n")  # not committed: reproduce writes it back
    with ws.run("train", command=[sys.executable, "train.py"]) as run:
        run.input("file:raw.csv")
        exec(compile(TRAIN, "train.py", "exec"), {})  # what the command does
        ws.files.add(["model.txt"])
    ws.lineage.link(run.ref, "model:clf@1", "output")


@pytest.mark.slow
def test_reproduce_rebuilds_code_inputs_params_and_packages(
    sqlite_ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    _recorded_training(sqlite_ws)
    write(sqlite_ws.root / "raw.csv", "id,delay\n9,9\n")  # the data moved on since
    into = tmp_path / "audit"
    out = cli("reproduce", "model:clf@1", "--into", str(into), "--run", "--json",
              cwd=sqlite_ws.root)  # fmt: skip
    assert out.code == 0, out.stderr
    result = out.json()
    assert isinstance(result, dict) and result["matches"] is True
    assert (into / "train.py").read_text() == TRAIN
    assert (into / "raw.csv").read_text() == "id,delay\n1,5\n2,7\n"
    assert yaml.safe_load((into / "params.yaml").read_text()) == {"lr": 0.5}
    assert "sqlalchemy==" in (into / "requirements.lock.txt").read_text()
    recorded = json.loads((into / "strata-reproduce.json").read_text())
    assert recorded["command"] == [sys.executable, "train.py"]
    assert all(result["outputs_match"].values()) and result["outputs_match"]
    assert result["metrics"] == {"rows": [3.0, 3.0]}


@pytest.mark.slow
def test_reproduce_warns_about_a_dirty_run_and_reports_a_mismatch(
    sqlite_ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    write(sqlite_ws.root / "train.py", "print('uncommitted')\n")
    commit_all(sqlite_ws.root, "code")
    write(sqlite_ws.root / "train.py", TRAIN)  # the run used uncommitted code
    write(sqlite_ws.root / "params.yaml", "lr: 0.5\n")
    with sqlite_ws.run("train", params={"lr": 0.5}, command=[sys.executable, "train.py"]) as run:
        exec(compile(TRAIN, "train.py", "exec"), {})
        sqlite_ws.files.add(["model.txt"])
    out = cli("reproduce", run.ref, "--into", str(tmp_path / "audit"), "--run",
              cwd=sqlite_ws.root)  # fmt: skip
    assert "warning:" in out.stderr and "cannot be exact" in out.stderr
    assert "reproduced: NO" in out.stdout and out.code == 1


def test_reproduce_refuses_a_folder_that_is_not_empty(
    sqlite_ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    with sqlite_ws.run("train") as run:
        run.output("model:clf@1")
    write(tmp_path / "busy" / "x", "x")
    out = cli("reproduce", "model:clf@1", "--into", str(tmp_path / "busy"), cwd=sqlite_ws.root)
    assert_one_line_error(out, 40, "is not an empty folder")
    a_file = write(tmp_path / "a-file", "x")
    out = cli("reproduce", "model:clf@1", "--into", str(a_file), cwd=sqlite_ws.root)
    assert_one_line_error(out, 40, "is not an empty folder")


def test_compare_command(sqlite_ws: Workspace, cli: Cli) -> None:
    _train(sqlite_ws, "model:clf@1", "table:d@1", {"lr": 1})
    _train(sqlite_ws, "model:clf@2", "table:d@2", {"lr": 1})
    out = cli("compare", "model:clf@1", "model:clf@2", cwd=sqlite_ws.root)
    assert out.code == 0 and "verdict: changed: data (table:d 1 → 2)" in out.stdout
    assert_one_line_error(
        cli("compare", "model:clf@1", "model:nope@1", cwd=sqlite_ws.root), 40, "model:nope@1"
    )
