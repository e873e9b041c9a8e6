"""``RunArtifacts`` (files tracking clients log, kept as objects) and ``LoggedModels``, on
SQLite and PostgreSQL; gc keeps what they need; ``Registry.create_model``."""

from __future__ import annotations

import pytest

from factories import b3
from strata import Workspace
from strata.errors import AlreadyExistsError, NotTrackedError, ObjectMissingError, UserInputError
from strata.lineage.run_artifacts import Entry
from strata.models.artifacts import StoredFolder
from strata.objects.tree import TreeEntry


def _put(ws: Workspace, path: str, data: bytes) -> str:
    with ws.run_artifacts.receiving() as tmp:
        tmp.write_bytes(data)
        return ws.run_artifacts.put(path, tmp)


def test_artifacts_are_objects_listed_by_folder(lws: Workspace) -> None:
    artifacts = lws.run_artifacts
    assert _put(lws, "1/r1/artifacts/model/weights.bin", b"w") == b3(b"w")
    _put(lws, "1/r1/artifacts/model/MLmodel", b"flavors: {}")
    _put(lws, "1/r2/artifacts/notes.txt", b"w")  # the same bytes: the same object
    assert artifacts.listing("1/r1/artifacts") == [Entry("model", True, None)]
    assert artifacts.listing("1/r1/artifacts/model") == [
        Entry("MLmodel", False, 11),
        Entry("weights.bin", False, 1),
    ]
    assert artifacts.file("1/r2/artifacts/notes.txt", verify=True).read_bytes() == b"w"
    assert artifacts.files("1/r1/artifacts") == {
        "model/MLmodel": (b3(b"flavors: {}"), 11),
        "model/weights.bin": (b3(b"w"), 1),
    }
    assert sorted(artifacts.objects()) == sorted({b3(b"w"), b3(b"flavors: {}")})
    assert not list(lws.store.tmp_dir.glob("upload-*"))  # the temp files are gone
    lws.files.gc()
    assert lws.store.exists(b3(b"w")) and lws.store.exists(b3(b"flavors: {}"))
    assert artifacts.delete("1/r1") == 2
    assert artifacts.listing("1/r1/artifacts") == []


def test_bad_and_missing_paths_are_refused(lws: Workspace) -> None:
    for bad in ("../up", "a/../../b", "/", "a//b"):
        with pytest.raises(UserInputError):
            _put(lws, bad, b"x")
    _put(lws, "1/r/artifacts/f", b"x")
    with pytest.raises(UserInputError, match="folder"):
        _put(lws, "1/r/artifacts", b"x")
    with pytest.raises(NotTrackedError):
        lws.run_artifacts.file("1/r/artifacts/missing")


def test_logged_models_link_to_their_run(lws: Workspace) -> None:
    tracking = lws.tracking
    run = tracking.create_run(0, name="r", user="ana", start_ms=None)
    made = tracking.logged_models.create(tracking.experiment(0), name="model", creator="ana")
    assert made.status == "PENDING" and made.artifact_uri.endswith(f"/models/{made.id}/artifacts")
    tracking.logged_models.link_run(made.id, run.run.id)
    other = tracking.create_run(0, name="other", user="ana", start_ms=None)
    with pytest.raises(UserInputError):
        tracking.logged_models.link_run(made.id, other.run.id)
    ready = tracking.logged_models.change(made.id, status="READY", tags={"k": "v"})
    assert (ready.status, ready.tags, ready.source_run_id) == ("READY", {"k": "v"}, run.run.id)
    assert [m.id for m in tracking.logged_models.of_runs([run.run.id])] == [made.id]


def test_a_version_is_registered_from_objects_in_the_store(lws: Workspace) -> None:
    entries = (TreeEntry("MLmodel", _put(lws, "1/r/artifacts/m/MLmodel", b"flavors"), 7),
               TreeEntry("w.bin", _put(lws, "1/r/artifacts/m/w.bin", b"weights"), 7))  # fmt: skip
    version = lws.models.register("stored", StoredFolder("m", entries))
    assert (version.artifact_kind, version.files) == ("directory", 2)
    out = lws.models.download(version.ref, lws.root / "out")
    assert (out / "w.bin").read_bytes() == b"weights"
    lws.run_artifacts.delete("1/r")
    lws.files.gc()  # the registry keeps the objects now
    assert lws.models.load(version.ref).joinpath("MLmodel").read_bytes() == b"flavors"
    with pytest.raises(ObjectMissingError):
        lws.models.register("stored", StoredFolder("m", (TreeEntry("x", "0" * 64, 1),)))


def test_a_model_is_created_before_its_first_version_and_tagged(lws: Workspace) -> None:
    created = lws.models.create_model("empty", description="nothing yet")
    assert (created.versions, created.description) == (0, "nothing yet")
    with pytest.raises(AlreadyExistsError):
        lws.models.create_model("empty")
    lws.models.tag_model("empty", {"team": "ml", "tier": "1"})
    lws.models.tag_model("empty", {}, remove=["tier"])
    assert lws.models.model_tags("empty") == {"team": "ml"}
    events = [(e.action, e.version, e.subject, e.to_value) for e in lws.models.history("empty")]
    assert events == [("tag", None, "team", "ml"), ("tag", None, "tier", "1"),
                      ("tag", None, "tier", None)]  # fmt: skip
