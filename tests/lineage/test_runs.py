"""Runs from Python: what they record, exact versions, crashes, and child processes."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factories import write
from lineage_support import fake_resolver, row_counts, wire
from strata import Workspace
from strata.errors import (
    LineageError,
    ModelNotFoundError,
    RunNotFoundError,
    TableNotFoundError,
    UserInputError,
)
from strata.lineage.ids import new_run_id, run_id_to_uuid, uuid_to_run_id


def test_a_run_records_params_metrics_environment_inputs_and_outputs(lws: Workspace) -> None:
    with lws.run("prepare-training-data", params={"lr": 0.1, "layers": [2, 3]}) as run:
        assert lws.activity is run
        exact = run.input("file:raw.csv")
        write(lws.root / "clean.csv", "id\n1\n")
        lws.files.add(["clean.csv"])  # reported through the activity seam
        run.log_metric("rows", 2)
    record = lws.lineage.run(run.ref)
    clean_hash = lws.files.versions("clean.csv")[0].hash
    assert record.status == "completed" and record.exit_code is None
    assert record.ended_at is not None and record.ended_at >= record.started_at
    assert record.params == {"lr": 0.1, "layers": [2, 3]}
    assert record.metrics == {"rows": 2.0}
    assert record.inputs == (exact,) and exact.startswith("file:raw.csv@")
    assert record.outputs == (f"file:clean.csv@{clean_hash[:12]}",)
    env = record.environment
    assert env["git"]["commit"] == lws.git.head() if lws.git else False
    assert env["git"]["dirty"] is False and env["git"]["branch"] == "main"
    assert env["python"] and env["os"] and env["host"] and env["cpu"]["count"]
    assert env["packages"]["sqlalchemy"]
    assert isinstance(env["gpu"], list)
    assert not isinstance(lws.activity, type(run))  # restored after the run


def test_an_input_is_recorded_at_the_exact_version_read(lws: Workspace) -> None:
    wire(lws, resolver=fake_resolver({"table:deliveries@latest": "table:deliveries@47"}))
    with lws.run("train") as run:
        assert run.input("table:deliveries@latest") == "table:deliveries@47"
        lws.activity.read("table:deliveries@latest")
    assert lws.lineage.run(run.ref).inputs == ("table:deliveries@47",)


def test_a_moving_selector_nothing_resolves_is_refused(lws: Workspace) -> None:
    """Decision: lineage never stores a moving selector; when nothing in the workspace can
    resolve it (here: no such model in the registry), the input is refused with the
    registry's error, nothing is stored, and the run goes on."""
    with (
        lws.run("train") as run,
        pytest.raises(ModelNotFoundError, match=r"no model named 'clf'"),
    ):
        run.input("model:clf@champion")
    with pytest.raises(TableNotFoundError, match="deliveries"), lws.run("train") as other:
        other.input("table:deliveries@latest")
    assert lws.lineage.run(run.ref).inputs == ()
    assert lws.lineage.run(other.ref).status == "failed"


def test_a_file_is_recorded_by_content_hash_whatever_names_it(sqlite_ws: Workspace) -> None:
    full = sqlite_ws.files.versions("raw.csv")[0].hash
    with sqlite_ws.run("train") as run:
        by_head = run.input("file:raw.csv@HEAD")
        by_prefix = run.input(f"file:raw.csv@{full[:6]}")
    assert by_head == by_prefix == f"file:raw.csv@{full[:12]}"


def test_an_exception_in_the_block_fails_the_run_and_keeps_partial_outputs(
    lws: Workspace,
) -> None:
    with pytest.raises(ZeroDivisionError), lws.run("train") as run:
        run.output("model:clf@1")
        _ = 1 / 0
    record = lws.lineage.run(run.ref)
    assert record.status == "failed"
    assert record.error is not None and "ZeroDivisionError" in record.error
    assert record.outputs == ("model:clf@1",)
    assert record.to_dict()["partial_outputs"] is True


def test_params_yaml_is_read_and_explicit_params_win(sqlite_ws: Workspace) -> None:
    write(sqlite_ws.root / "params.yaml", "lr: 0.5\nepochs: 3\n")
    with sqlite_ws.run("train", params={"lr": 0.1}) as run:
        run.log_param("seed", 7)
    assert sqlite_ws.lineage.run(run.ref).params == {"lr": 0.1, "epochs": 3, "seed": 7}


def test_a_malformed_params_yaml_writes_nothing(sqlite_ws: Workspace) -> None:
    write(sqlite_ws.root / "params.yaml", "lr: [unclosed\n")
    before = row_counts(sqlite_ws)
    with pytest.raises(LineageError, match=r"params\.yaml"), sqlite_ws.run("train"):
        pass
    assert row_counts(sqlite_ws) == before


@pytest.mark.parametrize(
    ("bomb", "fragment"),
    [
        ("lr: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested more than"),
        ("a: &a 1\nb: [" + ", ".join(["*a"] * 10_001) + "]\n", "aliases more"),
    ],
)
def test_a_yaml_bomb_in_params_yaml_is_refused_and_writes_nothing(
    sqlite_ws: Workspace, bomb: str, fragment: str
) -> None:
    write(sqlite_ws.root / "params.yaml", bomb)
    before = row_counts(sqlite_ws)
    with pytest.raises(LineageError, match=rf"params\.yaml: .*{fragment}"), sqlite_ws.run("t"):
        pass
    assert row_counts(sqlite_ws) == before


def test_metrics_json_written_during_the_run_is_recorded(sqlite_ws: Workspace) -> None:
    with sqlite_ws.run("train") as run:
        write(sqlite_ws.root / "metrics.json", json.dumps({"auc": 0.91, "loss": {"val": 0.2}}))
        run.log_metric("auc", 0.95)  # logged metrics win over the file
    assert sqlite_ws.lineage.run(run.ref).metrics == {"auc": 0.95, "loss.val": 0.2}


@pytest.mark.parametrize("value", [float("nan"), "high", True])
def test_a_metric_that_is_not_a_finite_number_is_refused(
    sqlite_ws: Workspace, value: object
) -> None:
    with sqlite_ws.run("train") as run, pytest.raises(UserInputError, match="not a finite number"):
        run.log_metric("auc", value)  # type: ignore[arg-type]


@pytest.mark.parametrize("job", ["", "a\nb", "x" * 201])
def test_a_bad_job_name_writes_nothing(sqlite_ws: Workspace, job: str) -> None:
    before = row_counts(sqlite_ws)
    with pytest.raises(UserInputError, match="bad job name"), sqlite_ws.run(job):
        pass
    assert row_counts(sqlite_ws) == before


def test_an_unknown_run_is_a_one_line_error(sqlite_ws: Workspace) -> None:
    with pytest.raises(RunNotFoundError, match="run:01ABC does not exist"):
        sqlite_ws.lineage.run("run:01ABC")


def test_a_child_workspace_records_into_the_parent_run(lws: Workspace) -> None:
    """What `strata run` passes a child process: STRATA_RUN_ID."""
    with lws.run("pipeline") as run:
        child = Workspace(lws.root, environ={**os.environ, "STRATA_RUN_ID": run.id})
        try:
            assert child.activity.run_id() == run.id
            child.activity.read("model:clf@2")
            child.activity.wrote("table:scores@1")
        finally:
            child.close()
    record = lws.lineage.run(run.ref)
    assert record.inputs == ("model:clf@2",) and record.outputs == ("table:scores@1",)


def test_a_child_cannot_record_into_a_finished_run(sqlite_ws: Workspace) -> None:
    with sqlite_ws.run("pipeline") as run:
        pass
    child = Workspace(sqlite_ws.root, environ={**os.environ, "STRATA_RUN_ID": run.id})
    try:
        with pytest.raises(LineageError, match="has ended"):
            child.activity.read("model:clf@2")
    finally:
        child.close()


def test_runs_list_newest_first_and_by_job(lws: Workspace) -> None:
    refs = []
    for job in ("a", "b", "a"):
        with lws.run(job) as run:
            refs.append(run.ref)
    assert [r.ref for r in lws.lineage.runs()] == refs[::-1]
    assert [r.ref for r in lws.lineage.runs(job="a")] == [refs[2], refs[0]]


def test_run_ids_sort_by_start_time() -> None:
    ids = [new_run_id(ms) for ms in (1, 2, 10**12, 2**47)]
    assert ids == sorted(ids) and all(len(i) == 26 for i in ids)


@given(st.integers(min_value=0, max_value=2**48 - 1))
def test_run_ids_round_trip_through_uuids(ms: int) -> None:
    run_id = new_run_id(ms)
    assert uuid_to_run_id(run_id_to_uuid(run_id)) == run_id
