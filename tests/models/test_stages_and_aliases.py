"""Stages and aliases, and every way a ref names a version; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from registry_helpers import artifact
from strata import Workspace
from strata.errors import (
    ModelNotFoundError,
    ModelVersionNotFoundError,
    ProtectedAliasError,
    RefSyntaxError,
    RegistryError,
    UserInputError,
)


def _three(ws: Workspace) -> None:
    for content in ("1", "2", "3"):
        ws.models.register("clf", artifact(ws.root, content), tags={"n": content})


def _stages(ws: Workspace) -> dict[int, str]:
    return {v.number: v.stage for v in ws.models.versions("clf")}


def test_promoting_archives_the_previous_holder(db_ws: Workspace) -> None:
    _three(db_ws)
    db_ws.models.promote("model:clf@1", "production")
    db_ws.models.promote("model:clf@2", "Staging")
    result = db_ws.models.promote("model:clf@2", "production", reason="better auc")
    assert _stages(db_ws) == {1: "archived", 2: "production", 3: "none"}
    moves = [(e.version, e.from_value, e.to_value, e.reason) for e in result.events]
    assert moves == [
        (2, "staging", "production", "better auc"),
        (1, "production", "archived", "replaced by version 2"),
    ]


def test_keep_existing_leaves_the_holder_and_the_newest_promotion_wins(
    db_ws: Workspace,
) -> None:
    _three(db_ws)
    db_ws.models.promote("model:clf@3", "production")
    db_ws.models.promote("model:clf@1", "production", keep_existing=True)
    assert _stages(db_ws) == {1: "production", 2: "none", 3: "production"}
    assert db_ws.models.resolve("model:clf@production").number == 1


def test_promoting_to_the_current_stage_changes_nothing(db_ws: Workspace) -> None:
    _three(db_ws)
    db_ws.models.promote("model:clf@1", "production")
    assert db_ws.models.promote("model:clf@1", "production").events == ()
    assert len(db_ws.models.history("clf")) == 4


def test_refs_resolve_by_number_semver_stage_alias_latest_and_mlflow_uri(
    db_ws: Workspace,
) -> None:
    _three(db_ws)
    db_ws.models.promote("model:clf@2", "production")
    db_ws.models.set_alias("model:clf@1", "champion")
    answers = {
        text: db_ws.models.resolve(text).number
        for text in (
            "model:clf@3",
            "model:clf@v1.1.0",
            "model:clf@production",
            "model:clf@PRODUCTION",
            "model:clf@champion",
            "model:clf@latest",
            "model:clf",
            "models:/clf/Production",
            "models:/clf/1",
            "models:/clf@champion",
            "models:/clf/latest",
        )
    }
    assert answers == {
        "model:clf@3": 3,
        "model:clf@v1.1.0": 2,
        "model:clf@production": 2,
        "model:clf@PRODUCTION": 2,
        "model:clf@champion": 1,
        "model:clf@latest": 3,
        "model:clf": 3,
        "models:/clf/Production": 2,
        "models:/clf/1": 1,
        "models:/clf@champion": 1,
        "models:/clf/latest": 3,
    }


@pytest.mark.parametrize(
    ("ref", "error"),
    [
        ("model:nope@1", ModelNotFoundError),
        ("model:clf@9", ModelVersionNotFoundError),
        ("model:clf@v9.0.0", ModelVersionNotFoundError),
        ("model:clf@staging", ModelVersionNotFoundError),
        ("model:clf@challenger", ModelVersionNotFoundError),
        ("table:clf@1", RefSyntaxError),
    ],
)
def test_unknown_models_and_versions_are_clear_errors(
    db_ws: Workspace, ref: str, error: type[Exception]
) -> None:
    _three(db_ws)
    with pytest.raises(error):
        db_ws.models.resolve(ref)
    with pytest.raises(error):
        db_ws.models.promote(ref, "production")
    assert set(_stages(db_ws).values()) == {"none"}


def test_an_unknown_stage_is_refused(db_ws: Workspace) -> None:
    _three(db_ws)
    with pytest.raises(UserInputError, match="unknown stage 'prod'"):
        db_ws.models.promote("model:clf@1", "prod")
    assert len(db_ws.models.history("clf")) == 3


def test_an_alias_points_at_one_version_and_moves(db_ws: Workspace) -> None:
    _three(db_ws)
    db_ws.models.set_alias("model:clf@1", "champion")
    moved = db_ws.models.set_alias("model:clf@2", "champion", reason="new best")
    assert [(e.subject, e.from_value, e.to_value) for e in moved.events] == [("champion", "1", "2")]
    assert db_ws.models.show("model:clf@2").aliases == ("champion",)
    assert db_ws.models.show("model:clf@1").aliases == ()
    db_ws.models.remove_alias("clf", "champion")
    with pytest.raises(ModelVersionNotFoundError):
        db_ws.models.resolve("model:clf@champion")
    with pytest.raises(RegistryError, match="no alias 'champion'"):
        db_ws.models.remove_alias("clf", "champion")


def test_a_protected_alias_moves_only_with_force_and_a_reason(db_ws: Workspace) -> None:
    _three(db_ws)
    db_ws.models.set_alias("model:clf@1", "champion", protected=True)
    with pytest.raises(ProtectedAliasError, match="protected"):
        db_ws.models.set_alias("model:clf@2", "champion")
    with pytest.raises(UserInputError, match="needs --reason"):
        db_ws.models.set_alias("model:clf@2", "champion", force=True)
    with pytest.raises(ProtectedAliasError):
        db_ws.models.remove_alias("clf", "champion")
    assert db_ws.models.resolve("model:clf@champion").number == 1
    assert len(db_ws.models.history("clf")) == 4, "the refusals wrote nothing"

    moved = db_ws.models.set_alias("model:clf@2", "champion", force=True, reason="incident 12")
    [event] = moved.events
    assert (event.forced, event.reason, event.detail) == (True, "incident 12", {"protected": True})
    assert db_ws.models.resolve("model:clf@champion").number == 2


def test_an_alias_named_like_a_stage_is_refused(db_ws: Workspace) -> None:
    _three(db_ws)
    with pytest.raises(RefSyntaxError, match="is a stage"):
        db_ws.models.set_alias("model:clf@1", "production")


def test_versions_filter_sort_and_paginate(db_ws: Workspace) -> None:
    for content, semver in (("1", "1.0.0"), ("2", "2.0.0"), ("3", "1.5.0-rc.1")):
        db_ws.models.register(
            "clf",
            artifact(db_ws.root, content),
            semver=semver if content != "3" else None,
            bump="minor" if content == "3" else None,
            tags={"team": "a" if content != "2" else "b"},
        )
    db_ws.models.promote("model:clf@1", "production")
    versions = db_ws.models.versions

    assert [v.number for v in versions("clf", tags={"team": "a"})] == [1, 3]
    assert [v.number for v in versions("clf", stage="production")] == [1]
    assert [v.number for v in versions("clf", semver_range=">=2.0.0")] == [2, 3]
    assert [v.number for v in versions("clf", sort="semver", descending=True)] == [3, 2, 1]
    assert [v.number for v in versions("clf", descending=True, limit=2)] == [3, 2]
    assert [v.number for v in versions("clf", limit=1, offset=1)] == [2]
    assert [v.number for v in versions("clf", sort="semver", limit=1, offset=2)] == [3]
    with pytest.raises(UserInputError):
        versions("clf", sort="size")


def test_list_models(db_ws: Workspace) -> None:
    _three(db_ws)
    db_ws.models.register("other", artifact(db_ws.root, "x"))
    db_ws.models.promote("model:clf@2", "production")
    found = {m.name: (m.versions, m.latest, m.production) for m in db_ws.models.list_models()}
    assert found == {"clf": (3, 3, 2), "other": (1, 1, None)}


def test_tags_and_descriptions_change_with_events(db_ws: Workspace) -> None:
    _three(db_ws)
    db_ws.models.tag("model:clf@1", {"reviewed": "yes", "n": "one"}, remove=[])
    db_ws.models.tag("model:clf@1", remove=["reviewed"])
    db_ws.models.describe("model:clf", "predicts delays")
    db_ws.models.describe("model:clf@2", "retrained", reason="october data")
    assert db_ws.models.show("model:clf@1").tags == {"n": "one"}
    assert db_ws.models.show("model:clf@2").description == "retrained"
    assert db_ws.models.list_models()[0].description == "predicts delays"
    changes = [
        (e.action, e.version, e.subject, e.from_value, e.to_value)
        for e in db_ws.models.history("clf")[3:]
    ]
    assert changes == [
        ("tag", 1, "reviewed", None, "yes"),
        ("tag", 1, "n", "1", "one"),
        ("tag", 1, "reviewed", "yes", None),
        ("description", None, None, None, "predicts delays"),
        ("description", 2, None, None, "retrained"),
    ]
