"""``strata model ...``: the commands mirror the API; bad input is one line, nothing changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factories import Cli, assert_one_line_error, corrupt, snapshot, write
from registry_helpers import artifact, signature
from strata import Workspace
from strata.errors import (
    ModelNotFoundError,
    ModelVersionNotFoundError,
    ObjectCorruptError,
    PromotionRefusedError,
    ProtectedAliasError,
    RefSyntaxError,
    StorageError,
    UserInputError,
)


def _state(ws: Workspace) -> tuple[Any, ...]:
    """Everything the registry holds, and every file, to compare before and after."""
    models = ws.models.list_models()
    versions = [v.to_dict() for m in models for v in ws.models.versions(m.name)]
    events = [e.to_dict() for m in models for e in ws.models.history(m.name)]
    return snapshot(ws.root), [m.to_dict() for m in models], versions, events


@pytest.fixture
def registered(ws: Workspace, cli: Cli) -> Workspace:
    import pyarrow as pa

    ws.tables.create("deliveries", pa.table({"id": [1, 2]}))
    sig = write(ws.root / "sig.json", json.dumps(signature("a:float64")))
    for content in ("1", "2"):
        out = cli(
            "model", "register", "clf", str(artifact(ws.root, content)),
            "--signature", str(sig), "--tag", "team=eta", "--metric", "auc=0.9",
            "--data", "table:deliveries@0", "--description", f"try {content}",
            cwd=ws.root,
        )  # fmt: skip
        assert out.code == 0, out.stderr
    return ws


def test_the_whole_cycle_from_the_command_line(registered: Workspace, cli: Cli) -> None:
    root = registered.root

    def run(*args: str) -> Any:
        out = cli("model", *args, "--json", cwd=root)
        assert out.code == 0, out.stderr
        return out.json()

    assert run("show", "model:clf@2")["semver"] == "v1.1.0"
    assert "compatible signature" in run("show", "model:clf@2")["semver_reason"]
    assert run("list")[0]["versions"] == 2
    run("promote", "model:clf@1", "--stage", "staging")
    run("promote", "model:clf@1", "--stage", "production", "--reason", "first")
    run("promote", "model:clf@2", "--stage", "production")
    run("alias", "set", "model:clf@2", "champion", "--protected")
    run("tag", "model:clf@2", "reviewed=yes", "--rm", "team")
    run("describe", "clf", "predicts delays")
    assert run("resolve", "models:/clf@champion")["version"] == 2
    assert [v["version"] for v in run("versions", "clf", "--stage", "archived")] == [1]
    assert [v["version"] for v in run("versions", "clf", "--tag", "reviewed=yes")] == [2]
    rolled = run("rollback", "clf", "--reason", "regression")
    assert [e["version"] for e in rolled["events"]] == [1, 2]
    assert run("resolve", "model:clf@production")["version"] == 1
    history = run("history", "clf")
    assert [e["action"] for e in history].count("stage") == 6
    first_move = history[3]["at"]
    assert run("resolve", "model:clf@production", "--at", first_move)["version"] == 1
    out = cli("model", "download", "model:clf@production", "copy.json", cwd=root)
    assert out.code == 0, out.stderr
    assert (root / "copy.json").read_text() == "1"
    run("alias", "rm", "clf", "champion", "--force", "--reason", "retired")

    human = cli("model", "history", "clf", cwd=root)
    assert "v2 stage none → production" in human.stdout
    assert "alias champion: v2 → removed" in human.stdout
    assert "FORCED  — retired" in human.stdout


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["show", "model:nope@1"], ModelNotFoundError.exit_code, "no model named 'nope'"),
        (["show", "model:clf@7"], ModelVersionNotFoundError.exit_code, "names no version"),
        (["promote", "model:clf@7", "--stage", "production"], 30, "names no version"),
        (["promote", "model:clf@1", "--stage", "prod"], UserInputError.exit_code, "unknown stage"),
        (["register", "clf", "out/model.json", "--semver", "1.0.0"], 2, "does not increase"),
        (["register", "clf", "out/model.json", "--metric", "auc=high"], 2, "not a number"),
        (["register", "clf", "out/model.json", "--tag", "team"], 2, "bad --tag 'team'"),
        (["register", "clf", "out/model.json", "--data", "deliveries"], 2, "bad ref"),
        (["resolve", "model:clf@production", "--at", "yesterday"], 2, "bad --at"),
        (["resolve", "model:clf@1..2"], RefSyntaxError.exit_code, "bad ref"),
        (["alias", "set", "model:clf@2", "champion"], ProtectedAliasError.exit_code, "protected"),
        (["alias", "rm", "clf", "champion"], ProtectedAliasError.exit_code, "protected"),
        (
            ["alias", "set", "model:clf@2", "champion", "--force"],
            UserInputError.exit_code,
            "needs --reason",
        ),
        (["rollback", "clf"], 30, "held production before"),
        (["download", "model:clf@1", "out/model.json"], StorageError.exit_code, "exists already"),
        (["versions", "clf", "--semver", ">=x"], 2, "bad semver"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    registered: Workspace, cli: Cli, args: list[str], code: int, fragment: str
) -> None:
    root = registered.root
    for setup in (
        ("promote", "model:clf@1", "--stage", "production"),
        ("alias", "set", "model:clf@1", "champion", "--protected"),
    ):
        assert cli("model", *setup, cwd=root).code == 0
    before = _state(registered)
    out = cli("model", *args, cwd=root)
    assert_one_line_error(out, code, fragment)
    assert _state(registered) == before


def test_a_failed_gate_lists_the_failures(registered: Workspace, cli: Cli) -> None:
    assert cli("config", "set", "registry.gates.production.require_stage", "staging",
               cwd=registered.root).code == 0  # fmt: skip
    before = _state(registered)
    out = cli("model", "promote", "model:clf@2", "--stage", "production", cwd=registered.root)
    assert_one_line_error(out, PromotionRefusedError.exit_code, "never was in staging")
    assert _state(registered) == before


def test_a_corrupt_artifact_is_refused_and_nothing_is_written(
    registered: Workspace, cli: Cli
) -> None:
    version = registered.models.show("model:clf@1")
    corrupt(registered.store.path(version.artifact_hash))
    before = _state(registered)
    out = cli("model", "download", "model:clf@1", "copy.json", cwd=registered.root)
    assert_one_line_error(out, ObjectCorruptError.exit_code, "artifact of model:clf@1 is corrupt")
    assert _state(registered) == before
    assert not Path(registered.root / "copy.json").exists()


def test_a_rerun_register_says_it_registered_nothing(registered: Workspace, cli: Cli) -> None:
    path = artifact(registered.root, "2")
    again = cli(
        "model", "register", "clf", str(path), "--signature", str(registered.root / "sig.json"),
        "--tag", "team=eta", "--metric", "auc=0.9", "--data", "table:deliveries@0",
        "--description", "try 2", cwd=registered.root,
    )  # fmt: skip
    assert again.code == 0, again.stderr
    assert "model:clf@2 already holds this registration" in again.stdout
    assert [v.number for v in registered.models.versions("clf")] == [1, 2]
