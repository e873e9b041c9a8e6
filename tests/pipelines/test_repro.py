"""strata repro: runs what changed, in order, as recorded runs; the lock and the run cache."""

from __future__ import annotations

import os

import pytest
import yaml

from factories import snapshot, write
from pipeline_helpers import actions, make_pipeline, params
from strata.errors import StageFailedError

ALL_RAN = {"prepare": "ran", "featurize": "ran", "train": "ran"}
NOTHING = {"prepare": "unchanged", "featurize": "unchanged", "train": "unchanged"}


def _lock(root):  # type: ignore[no-untyped-def]
    return yaml.safe_load((root / "strata.lock").read_text())["stages"]


def test_the_first_repro_runs_every_stage_in_order_and_the_second_nothing(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    first = ws.pipelines.repro()
    assert [s.name for s in first.stages] == ["prepare", "featurize", "train"]
    assert actions(first) == ALL_RAN
    assert (ws.root / "data" / "clean" / "raw.txt").read_text() == "A B C\n"
    assert actions(ws.pipelines.repro()) == NOTHING


def test_the_lock_holds_exact_dependency_hashes_params_and_outputs(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    ws.pipelines.repro()
    lock = _lock(ws.root)
    [raw] = ws.files.status(["data/clean"])  # tracked like `strata add`
    assert raw.state == "unchanged"
    features = ws.files.add(["data/features.txt"])[0]
    assert lock["train"]["deps"]["data/features.txt"] == features.hash
    assert lock["train"]["params"] == {"params.yaml": {"train.lr": 0.1}}
    assert lock["featurize"]["outs"]["data/features.txt"]["hash"] == features.hash
    assert lock["train"]["outs"]["metrics.json"]["kind"] == "metric"
    assert (ws.root / "model.txt.strata").is_file()
    assert not (ws.root / "metrics.json.strata").exists()  # metrics stay in git, uncached


def test_each_stage_run_is_a_recorded_run_with_exact_inputs_and_outputs(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    result = ws.pipelines.repro()
    lock = _lock(ws.root)
    train = ws.lineage.run(result.stages[2].run)
    assert train.job == "train" and train.status == "completed"
    graph = ws.lineage.graph(f"run:{train.id}", direction="both", depth=1)
    features = lock["train"]["deps"]["data/features.txt"][:12]
    model = lock["train"]["outs"]["model.txt"]["hash"][:12]
    refs = graph.refs()
    assert f"file:data/features.txt@{features}" in refs
    assert f"file:model.txt@{model}" in refs


def test_a_param_change_reruns_only_the_stages_that_use_it(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    ws.pipelines.repro()
    write(ws.root / "params.yaml", params(lr=0.5))
    result = ws.pipelines.repro()
    assert actions(result) == {"prepare": "unchanged", "featurize": "unchanged", "train": "ran"}
    assert result.stages[2].reasons == ("param train.lr changed",)
    assert _lock(ws.root)["train"]["params"]["params.yaml"]["train.lr"] == 0.5


def test_a_data_change_reruns_the_stage_and_everything_downstream(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    ws.pipelines.repro()
    write(ws.root / "data" / "raw.txt", "x y z\n")
    assert actions(ws.pipelines.repro()) == ALL_RAN
    assert "X Y Z" in (ws.root / "model.txt").read_text()


def test_targets_run_with_their_upstream_only(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    result = ws.pipelines.repro(["featurize"])
    assert actions(result) == {"prepare": "ran", "featurize": "ran"}
    assert not (ws.root / "model.txt").exists()


def test_a_modified_output_is_brought_back(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    ws.pipelines.repro()
    model = (ws.root / "model.txt").read_bytes()
    write(ws.root / "model.txt", "tampered")
    result = ws.pipelines.repro()
    assert actions(result)["train"] == "restored"  # same inputs: from the run cache
    assert "output model.txt modified" in result.stages[2].reasons
    assert (ws.root / "model.txt").read_bytes() == model


def test_the_run_cache_restores_outputs_of_an_earlier_identical_run(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    first = ws.pipelines.repro()
    model = (ws.root / "model.txt").read_bytes()
    metrics = (ws.root / "metrics.json").read_bytes()
    write(ws.root / "params.yaml", params(lr=0.9))
    ws.pipelines.repro()
    assert (ws.root / "model.txt").read_bytes() != model
    write(ws.root / "params.yaml", params())
    runs_before = len(ws.lineage.runs())
    back = ws.pipelines.repro()
    assert actions(back)["train"] == "restored"
    assert back.stages[2].run == first.stages[2].run  # the run that made these outputs
    assert (ws.root / "model.txt").read_bytes() == model
    assert (ws.root / "metrics.json").read_bytes() == metrics
    assert len(ws.lineage.runs()) == runs_before  # nothing ran
    assert actions(ws.pipelines.repro()) == NOTHING


def test_force_reruns_unchanged_stages(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    ws.pipelines.repro()
    result = ws.pipelines.repro(force=True)
    assert actions(result) == ALL_RAN
    assert all(s.reasons[0] == "forced" for s in result.stages)


def test_a_dry_run_says_what_would_run_and_writes_nothing(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    ws.pipelines.repro()
    write(ws.root / "params.yaml", params(n=5))
    before = snapshot(ws.root)
    result = ws.pipelines.repro(dry_run=True)
    assert actions(result) == {
        "prepare": "unchanged",
        "featurize": "would run",
        "train": "would run",
    }
    assert result.stages[2].reasons == ("upstream stage featurize will run",)
    assert snapshot(ws.root) == before


def test_a_frozen_stage_is_not_run(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    ws.pipelines.repro()
    text = (
        (ws.root / "strata.yaml")
        .read_text()
        .replace("    metrics: [metrics.json]\n", "    metrics: [metrics.json]\n    frozen: true\n")
    )
    write(ws.root / "strata.yaml", text)
    write(ws.root / "params.yaml", params(lr=0.7))
    assert actions(ws.pipelines.repro())["train"] == "frozen"


def test_a_failing_stage_stops_repro_and_keeps_what_finished(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root, train="echo partial > model.txt\nexit 3\n")
    with pytest.raises(StageFailedError, match=r"stage train failed.*code 3"):
        ws.pipelines.repro()
    lock = _lock(ws.root)
    assert set(lock) == {"prepare", "featurize"}  # finished stages keep their entries
    assert (ws.root / "data" / "features.txt.strata").is_file()
    assert not (ws.root / "model.txt.strata").exists()  # the partial output is not tracked
    failed = ws.lineage.runs(job="train")[0]
    assert failed.status == "failed" and failed.exit_code == 3
    write(ws.root / "train.sh", "echo fixed > model.txt\necho '{\"size\": 1}' > metrics.json\n")
    assert actions(ws.pipelines.repro()) == {
        "prepare": "unchanged",
        "featurize": "unchanged",
        "train": "ran",
    }


def test_a_stage_that_does_not_write_an_output_fails(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root, train="echo model > model.txt\n")
    with pytest.raises(StageFailedError, match=r"did not write metrics\.json"):
        ws.pipelines.repro()
    assert "train" not in _lock(ws.root)
    assert ws.lineage.runs(job="train")[0].status == "failed"


def test_a_second_repro_in_the_same_workspace_is_refused(make_workspace) -> None:  # type: ignore[no-untyped-def]
    import fcntl

    from strata.errors import PipelineError

    ws = make_workspace()
    make_pipeline(ws.root)
    held = os.open(ws.root / ".strata", os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a running `strata repro` holds it
        with pytest.raises(PipelineError, match="another `strata repro` is running"):
            ws.pipelines.repro()
        assert not (ws.root / "strata.lock").exists()
        assert (
            actions(ws.pipelines.repro(dry_run=True))["prepare"] == "would run"
        )  # reading is fine
    finally:
        os.close(held)
    assert actions(ws.pipelines.repro())["prepare"] == "ran"


def test_runs_are_recorded_on_sqlite_and_postgresql(make_workspace, db_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STRATA_METADATA_URL", db_url)
    ws = make_workspace()
    make_pipeline(ws.root)
    first = ws.pipelines.repro()
    assert actions(first) == ALL_RAN
    assert {r.job for r in ws.lineage.runs()} == {"prepare", "featurize", "train"}
    features = _lock(ws.root)["train"]["deps"]["data/features.txt"]
    assert [v.hash for v in ws.files.versions("data/features.txt")] == [features]
    assert actions(ws.pipelines.repro()) == NOTHING


def test_a_run_cache_entry_whose_objects_were_collected_runs_the_stage(make_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = make_workspace()
    make_pipeline(ws.root)
    ws.pipelines.repro()
    write(ws.root / "params.yaml", params(lr=0.9))
    ws.pipelines.repro()
    ws.files.gc(workspace_only=True, force=True)  # the lr=0.1 model is in no pointer now
    write(ws.root / "params.yaml", params())
    result = ws.pipelines.repro()
    assert actions(result)["train"] == "ran"
    assert "0.1" in (ws.root / "metrics.json").read_text()
