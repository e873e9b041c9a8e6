"""Bad input and faults on the command line: one line, an exit code, nothing written."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import yaml

from factories import STRATA, assert_one_line_error, snapshot, write
from pipeline_helpers import PIPELINE, make_pipeline


def test_a_malformed_strata_yaml_names_file_line_and_key(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    write(
        ws.root / "strata.yaml",
        PIPELINE.replace("    outs: [model.txt]\n", "    outz: [model.txt]\n"),
    )
    before = snapshot(ws.root)
    outcome = cli("repro", cwd=ws.root)
    assert_one_line_error(outcome, 61, "strata.yaml:15:", "stages.train.outz", "unknown key")
    assert snapshot(ws.root) == before


def test_a_missing_dependency_is_named_and_nothing_runs(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    (ws.root / "data" / "raw.txt").unlink()
    before = snapshot(ws.root)
    outcome = cli("repro", cwd=ws.root)
    assert_one_line_error(outcome, 63, "stage prepare", "data/raw.txt does not exist")
    assert snapshot(ws.root) == before


def test_a_missing_table_dependency_is_named(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    write(ws.root / "strata.yaml", "stages:\n  a:\n    cmd: echo\n    deps: [table:nope@latest]\n")
    outcome = cli("repro", cwd=ws.root)
    assert_one_line_error(outcome, 63, "stage a", "table:nope@latest")


def test_an_unparsable_params_file_is_named(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    write(ws.root / "params.yaml", "featurize:\n  n: [3\n")
    before = snapshot(ws.root)
    outcome = cli("repro", cwd=ws.root)
    assert_one_line_error(outcome, 61, "cannot parse params.yaml")
    assert snapshot(ws.root) == before


def test_a_missing_param_is_named(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    ws.pipelines.repro()
    write(ws.root / "params.yaml", "featurize:\n  n: 3\n")
    outcome = cli("repro", "--dry-run", cwd=ws.root)
    assert_one_line_error(outcome, 61, "stage train", "no param 'train.lr'")


def test_a_failing_command_exits_64_keeping_finished_stages(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root, train="exit 5\n")
    outcome = cli("repro", cwd=ws.root)
    progress, error = outcome.stderr.splitlines()[:-1], outcome.stderr.splitlines()[-1:]
    assert all(not line.startswith("error:") for line in progress)  # what ran, then one error
    assert_one_line_error(
        outcome.__class__(outcome.code, outcome.stdout, error[0] + "\n"),
        64,
        "stage train failed",
        "code 5",
    )
    lock = yaml.safe_load((ws.root / "strata.lock").read_text())
    assert set(lock["stages"]) == {"prepare", "featurize"}


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (
            "  again:\n    cmd: echo\n    outs: [model.txt]\n",
            "stages 'train' and 'again' write model.txt",
        ),
        ("  again:\n    cmd: echo\n    outs: [data]\n", "overlapping"),
        ("  loop:\n    cmd: echo\n    deps: [model.txt]\n    outs: [data/raw.txt]\n", "cycle"),
    ],
)
def test_clashing_outputs_and_cycles_are_refused(
    make_workspace, cli, extra: str, fragment: str
) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    write(ws.root / "strata.yaml", PIPELINE + extra)
    before = snapshot(ws.root)
    outcome = cli("repro", cwd=ws.root)
    assert_one_line_error(outcome, 62, fragment)
    assert snapshot(ws.root) == before


def test_an_unknown_stage_is_named(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    assert_one_line_error(cli("repro", "nope", cwd=ws.root), 2, "no stage 'nope'", "prepare")


def test_no_pipeline_file_says_how_to_add_a_stage(make_workspace, cli) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    assert_one_line_error(cli("repro", cwd=ws.root), 61, "no strata.yaml", "strata stage add")


@pytest.mark.slow
def test_ctrl_c_during_repro_leaves_the_lock_consistent(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root, train="touch started\nsleep 30\necho late > model.txt\n")
    proc = subprocess.Popen(
        [str(STRATA), "repro"],
        cwd=ws.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    deadline = time.monotonic() + 60
    while not (ws.root / "started").exists():
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    lock = yaml.safe_load((ws.root / "strata.lock").read_text())
    assert set(lock["stages"]) == {"prepare", "featurize"}
    assert not (ws.root / "model.txt.strata").exists()
    assert ws.lineage.runs(job="train")[0].status == "failed"
    write(ws.root / "train.sh", "echo m > model.txt\necho '{\"a\": 1}' > metrics.json\n")
    ws2 = ws.__class__(ws.root)
    result = ws2.pipelines.repro()
    ws2.close()
    assert [s.action for s in result.stages] == ["unchanged", "unchanged", "ran"]
