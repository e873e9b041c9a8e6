"""Registering versions: immutable numbers, artifacts as deduplicated objects, provenance."""

from __future__ import annotations

import pytest

from factories import cache_objects, commit_all, make_folder, write
from registry_helpers import artifact
from strata import Workspace
from strata.errors import RefSyntaxError, RegistryError, UserInputError


class Recorder:
    """An Activity that remembers what it was told, with a run in progress."""

    def __init__(self, run_id: str | None = "01JDRUN") -> None:
        self.reads: list[str] = []
        self.writes: list[str] = []
        self._run_id = run_id

    def run_id(self) -> str | None:
        return self._run_id

    def read(self, ref: str) -> None:
        self.reads.append(ref)

    def wrote(self, ref: str) -> None:
        self.writes.append(ref)


def test_versions_number_up_per_model_and_keep_what_was_given(ws: Workspace) -> None:
    import pyarrow as pa

    ws.tables.create("deliveries", pa.table({"id": [1]}))
    ws.table("deliveries").append(pa.table({"id": [2]}))
    write(ws.root / "data" / "raw.csv", "a\n1\n")
    [raw] = ws.files.add(["data/raw.csv"])
    ws.lineage.register_features("delivery", ["distance_km"])
    ws.lineage.register_features("delivery", ["distance_km", "weather"])
    with ws.run("train") as training:
        pass
    first = ws.models.register(
        "clf",
        artifact(ws.root, "1"),
        description="first try",
        tags={"team": "eta"},
        metrics={"auc": 0.91},
        data=["table:deliveries@1", f"file:data/raw.csv@{raw.hash[:8]}"],
        features="features:delivery@2",
        run=training.ref,
    )
    second = ws.models.register("clf", artifact(ws.root, "2"))
    other = ws.models.register("other", artifact(ws.root, "3"))

    assert (first.number, second.number, other.number) == (1, 2, 1)
    shown = ws.models.show("model:clf@1")
    assert shown.tags == {"team": "eta"}
    assert shown.metrics == {"auc": 0.91}
    assert shown.data == ("table:deliveries@1", f"file:data/raw.csv@{raw.hash[:12]}")
    assert (shown.features, shown.run, shown.description) == (
        "features:delivery@2",
        training.ref,
        "first try",
    )
    assert shown.stage == "none"
    assert ws.models.show("model:clf@2").artifact_hash != shown.artifact_hash


def test_an_identical_artifact_is_a_new_version_that_stores_nothing_new(ws: Workspace) -> None:
    path = artifact(ws.root, "weights")
    first = ws.models.register("clf", path)
    before = cache_objects(ws.store.root)
    again = ws.models.register("clf", path, allow_duplicate=True)
    assert again.number == 2
    assert again.artifact_hash == first.artifact_hash
    assert cache_objects(ws.store.root) == before


def test_rerunning_a_registration_that_committed_registers_nothing_twice(ws: Workspace) -> None:
    path = artifact(ws.root, "weights")
    first = ws.models.register("clf", path, metrics={"auc": 0.9}, tags={"team": "eta"})
    rerun = ws.models.register("clf", path, metrics={"auc": 0.9}, tags={"team": "eta"})
    assert (rerun.number, rerun.reused, first.reused) == (1, True, False)
    assert [e.action for e in ws.models.history("clf")] == ["registered"]
    assert rerun.to_dict()["already_registered"] is True


def test_the_same_bytes_with_other_inputs_are_a_new_version(ws: Workspace) -> None:
    path = artifact(ws.root, "weights")
    ws.models.register("clf", path, metrics={"auc": 0.9})
    retrained = ws.models.register("clf", path, metrics={"auc": 0.91})
    assert (retrained.number, retrained.reused) == (2, False)


def test_a_folder_is_stored_as_its_files_plus_a_listing(ws: Workspace) -> None:
    folder = make_folder(ws.root / "bundle", {"model.bin": b"\x00\x01", "conf/params.json": "{}"})
    version = ws.models.register("bundle", folder)
    assert (version.artifact_kind, version.files, version.size) == ("directory", 2, 4)
    assert len(cache_objects(ws.store.root)) == 3  # two files and the listing


def test_the_git_commit_and_dirty_flag_are_captured(ws: Workspace) -> None:
    write(ws.root / "train.py", "print('train')\n")
    commit = commit_all(ws.root, "training code")
    clean = ws.models.register("clf", artifact(ws.root, "1"))
    write(ws.root / "train.py", "print('train harder')\n")
    dirty = ws.models.register("clf", artifact(ws.root, "2"))
    assert (clean.git_commit, clean.git_dirty) == (commit, False)
    assert (dirty.git_commit, dirty.git_dirty) == (commit, True)


def test_who_is_strata_user_else_the_git_identity(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.models.register("clf", artifact(ws.root, "1")).created_by == (
        "Strata Tests <tests@strata.invalid>"
    )
    monkeypatch.setenv("STRATA_USER", "ana@example.com")
    ws2 = Workspace(ws.root)
    try:
        assert ws2.models.register("clf", artifact(ws.root, "2")).created_by == "ana@example.com"
        assert ws2.models.history("clf")[-1].actor == "ana@example.com"
    finally:
        ws2.close()


def test_register_reports_the_exact_version_written_and_the_run_in_progress(
    ws: Workspace,
) -> None:
    recorder = Recorder()
    ws.activity = recorder
    version = ws.models.register("clf", artifact(ws.root, "1"))
    assert recorder.writes == ["model:clf@1"]
    assert version.run == "run:01JDRUN"
    ws.models.download("model:clf@latest", ws.root / "copy.json")
    assert recorder.reads == ["model:clf@1"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"data": ["deliveries@47"]}, RefSyntaxError),
        ({"features": "table:deliveries@1"}, RefSyntaxError),
        ({"run": "run:bad id"}, RefSyntaxError),
        ({"tags": {"": "x"}}, UserInputError),
        ({"metrics": {"auc": float("nan")}}, UserInputError),
        ({"flavor": "tensorflow"}, RegistryError),
    ],
)
def test_bad_registration_input_writes_nothing(
    ws: Workspace, kwargs: dict[str, object], error: type[Exception]
) -> None:
    path = artifact(ws.root, "1")
    before = cache_objects(ws.store.root)
    with pytest.raises(error):
        ws.models.register("clf", path, **kwargs)  # type: ignore[arg-type]
    assert ws.models.list_models() == []
    assert cache_objects(ws.store.root) == before


def test_a_missing_artifact_is_refused(ws: Workspace) -> None:
    with pytest.raises(RegistryError, match="does not exist"):
        ws.models.register("clf", ws.root / "nope.json")
    assert ws.models.list_models() == []
