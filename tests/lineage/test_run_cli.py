"""`strata run`, `strata runs`: exit codes, child processes, kills, and bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from factories import STRATA, Cli, assert_one_line_error, run_strata, snapshot
from lineage_support import row_counts
from strata import Workspace
from strata.errors import LineageError, RunNotFoundError, UserInputError


def _only_run(ws: Workspace) -> dict[str, object]:
    [record] = ws.lineage.runs()
    return ws.lineage.run(record.ref).to_dict()


def test_a_succeeding_command_is_a_completed_run(sqlite_ws: Workspace, cli: Cli) -> None:
    out = cli(
        "run", "--name", "train", "--param", "lr=0.1", "--param", "tag=v1",
        "--input", "file:raw.csv", "--json", "--", "true",
        cwd=sqlite_ws.root,
    )  # fmt: skip
    assert out.code == 0, out.stderr
    shown = out.json()
    assert isinstance(shown, dict)
    assert shown["status"] == "completed" and shown["exit_code"] == 0
    assert shown["params"] == {"lr": 0.1, "tag": "v1"}
    assert shown["command"] == ["true"]
    assert [i.split("@")[0] for i in shown["inputs"]] == ["file:raw.csv"]


def test_a_param_too_deep_for_yaml_is_kept_as_text(sqlite_ws: Workspace, cli: Cli) -> None:
    deep = "[" * 5_000 + "]" * 5_000
    args = ("run", "--name", "t", "--param", f"deep={deep}", "--json", "--", "true")
    out = cli(*args, cwd=sqlite_ws.root)
    assert out.code == 0, out.stderr
    shown = out.json()
    assert isinstance(shown, dict) and shown["params"] == {"deep": deep}


def test_a_failing_command_fails_the_run_and_strata_exits_with_its_code(
    sqlite_ws: Workspace, cli: Cli
) -> None:
    out = cli("run", "--name", "train", "--", "sh", "-c", "exit 7", cwd=sqlite_ws.root)
    assert out.code == 7
    run = _only_run(sqlite_ws)
    assert run["status"] == "failed" and run["exit_code"] == 7
    assert run["error"] == "command exited with code 7"


def test_runs_and_run_show(sqlite_ws: Workspace, cli: Cli) -> None:
    assert cli("run", "-n", "train", "--", "true", cwd=sqlite_ws.root).code == 0
    listed = cli("runs", "--json", cwd=sqlite_ws.root).json()
    assert isinstance(listed, list) and [r["job"] for r in listed] == ["train"]
    ref = listed[0]["ref"]
    for args in (["run", "show", ref], ["runs", "show", ref]):
        out = cli(*args, cwd=sqlite_ws.root)
        assert out.code == 0 and ref in out.stdout and "completed" in out.stdout
    text = cli("runs", cwd=sqlite_ws.root).stdout
    assert ref in text and "train" in text


def test_runs_json_and_run_show_json_hold_what_run_show_prints(
    sqlite_ws: Workspace, cli: Cli
) -> None:
    args = ["run", "-n", "train", "-i", "file:raw.csv@HEAD", "-o", "model:clf@1", "--", "true"]
    assert cli(*args, cwd=sqlite_ws.root).code == 0
    [listed] = cli("runs", "--json", cwd=sqlite_ws.root).json()
    [read] = listed["inputs"]
    assert read.startswith("file:raw.csv@") and listed["outputs"] == ["model:clf@1"]
    text = cli("run", "show", listed["ref"], cwd=sqlite_ws.root).stdout
    assert f"input  {read}" in text and "output model:clf@1" in text
    for show in (
        ["run", "show", listed["ref"], "--json"],
        ["runs", "show", listed["ref"], "--json"],
    ):
        out = cli(*show, cwd=sqlite_ws.root)
        assert out.code == 0, out.stderr
        shown = out.json()
        assert shown["inputs"] == [read] and shown["outputs"] == ["model:clf@1"]
        assert shown["command"] == ["true"] and shown["status"] == "completed"
        assert shown["environment"]["git"]["commit"][:12] in text


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["run", "--", "true"], UserInputError.exit_code, "no job name"),
        (["run", "-n", "x"], UserInputError.exit_code, "no command to run"),
        (["run", "-n", "x", "--", "no-such-command-here"], 2, "'no-such-command-here' not found"),
        (["run", "-n", "x", "--param", "novalue", "--", "true"], 2, "bad --param 'novalue'"),
        (["run", "-n", "x", "--input", "table:d@latest", "--", "true"], 20, "no table named 'd'"),
        (["run", "-n", "x", "--input", "model:m@champion", "--", "true"], 30, "no model named 'm'"),
        (["run", "-n", "x", "--input", "tabel:d@1", "--", "true"], 2, "unknown kind 'tabel'"),
        (["run", "-n", "x", "--input", "table:d@9..3", "--", "true"], 2, "runs backwards"),
        (["run", "-n", "x", "--input", "file:nope.csv", "--", "true"], 4, "nope.csv"),
        (["runs", "show", "run:01NOPE"], RunNotFoundError.exit_code, "run:01NOPE does not exist"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    sqlite_ws: Workspace, cli: Cli, args: list[str], code: int, fragment: str
) -> None:
    before, files = row_counts(sqlite_ws), snapshot(sqlite_ws.root)
    out = cli(*args, cwd=sqlite_ws.root)
    assert_one_line_error(out, code, fragment)
    assert row_counts(sqlite_ws) == before
    assert snapshot(sqlite_ws.root) == files


def test_lineage_error_codes_are_in_the_lineage_range() -> None:
    assert LineageError.exit_code == 40 and RunNotFoundError.exit_code == 41


CHILD = """
from strata import Workspace
ws = Workspace(".")
ws.activity.read("table:deliveries@47")
ws.activity.wrote("model:clf@3")
open("metrics.json", "w").write('{"auc": 0.9}')
"""


@pytest.mark.slow
def test_a_child_process_using_the_api_records_into_the_same_run(sqlite_ws: Workspace) -> None:
    out = run_strata(
        "run", "--name", "train", "--", sys.executable, "-c", CHILD, cwd=sqlite_ws.root
    )
    assert out.code == 0, out.stderr
    run = _only_run(sqlite_ws)
    assert run["inputs"] == ["table:deliveries@47"]
    assert run["outputs"] == ["model:clf@3"]
    assert run["metrics"] == {"auc": 0.9}


@pytest.mark.slow
def test_kill_9_leaves_the_run_unfinished_not_half_written(sqlite_ws: Workspace) -> None:
    proc = subprocess.Popen(
        [str(STRATA), "run", "--name", "long", "--", "sleep", "30"],
        cwd=sqlite_ws.root,
        env=os.environ.copy(),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not sqlite_ws.lineage.runs() and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        try:  # the `sleep` strata started is in the process group the test made
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
    run = _only_run(sqlite_ws)
    assert run["status"] == "unfinished"
    assert run["ended_at"] is None and run["exit_code"] is None
    assert run["environment"] and run["params"] == {}


def test_the_cli_does_not_load_heavy_modules_at_start(tmp_path: Path) -> None:
    code = (
        "import sys, strata.cli.main; "
        "print(sorted(m for m in ('sqlalchemy', 'openlineage', 'jsonschema', 'yaml') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
