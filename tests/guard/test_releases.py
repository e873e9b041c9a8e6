"""Releases: a named set of versions, pinned; rolled back in one step, or not at all."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pyarrow as pa
import pytest

from factories import assert_one_line_error, commit_all, write
from strata import Workspace

MODEL = "delay-classifier"


def _register(ws: Workspace, n: int) -> None:
    path = write(ws.root / "train" / f"model-{n}.json", json.dumps({"weights": [n]}))
    ws.models.register(MODEL, path)


def _release_world(ws: Workspace) -> None:
    """Release 1.0: model v1 in production (alias champion), deliveries@1, a tracked file."""
    write(ws.root / "data" / "raw.csv", "a,b\n1,2\n")
    ws.files.add(["data/raw.csv"])
    commit_all(ws.root, "data")
    ws.tables.create("deliveries", pa.table({"id": [1, 2], "delay": [5, 7]}))
    ws.table("deliveries").append(pa.table({"id": [3], "delay": [4]}))
    _register(ws, 1)
    ws.models.promote(f"model:{MODEL}@1", "production")
    ws.models.set_alias(f"model:{MODEL}@1", "champion")
    ws.recovery.releases.create("1.0", description="first")


def _ship_something_worse(ws: Workspace) -> None:
    _register(ws, 2)
    ws.models.promote(f"model:{MODEL}@2", "production")
    ws.models.set_alias(f"model:{MODEL}@2", "champion")
    ws.table("deliveries").append(pa.table({"id": [4], "delay": [999]}))


def test_create_records_every_version_and_pins_tables(make_workspace: Any, cli: Any) -> None:
    ws = make_workspace()
    _release_world(ws)
    shown = cli("release", "show", "1.0", "--json", cwd=ws.root)
    assert shown.code == 0, shown.stderr
    release = json.loads(shown.stdout)
    assert release["models"] == [
        {"name": MODEL, "version": 1, "stage": "production", "aliases": ["champion"]}
    ]
    assert release["tables"] == {"deliveries": 1}
    assert list(release["files"]) == ["data/raw.csv"]
    assert release["commit"] == ws.git.head()
    assert 1 in ws.table("deliveries").pinned_versions()
    listed = cli("release", "list", "--json", cwd=ws.root)
    assert [r["name"] for r in json.loads(listed.stdout)] == ["1.0"]


def test_release_rollback_puts_everything_back(make_workspace: Any, cli: Any) -> None:
    ws = make_workspace()
    _release_world(ws)
    _ship_something_worse(ws)
    ws.recovery.releases.create("1.1")

    diff = cli("release", "diff", "1.0", "1.1", "--json", cwd=ws.root)
    changes = json.loads(diff.stdout)
    assert changes["models"] == {MODEL: {"old": 1, "new": 2}}
    assert changes["tables"] == {"deliveries": {"old": 1, "new": 2}}

    done = cli("release", "rollback", "1.0", "--reason", "delays", "--json", cwd=ws.root)
    assert done.code == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["git_command"].startswith("git checkout ")
    assert ws.models.resolve(f"model:{MODEL}@production").number == 1
    assert ws.models.resolve(f"model:{MODEL}@champion").number == 1
    table = ws.table("deliveries")
    assert sorted(table.to_arrow().column("id").to_pylist()) == [1, 2, 3]
    assert "release rollback to 1.0: delays" in (table.history()[0].message or "")


def test_a_failure_halfway_undoes_the_steps_taken(make_workspace: Any, cli: Any) -> None:
    ws = make_workspace()
    _release_world(ws)
    _ship_something_worse(ws)
    # the table's storage is lost: its restore, after the model steps, fails
    shutil.rmtree(ws.table("deliveries").location.removeprefix("file://"))

    done = cli("release", "rollback", "1.0", cwd=ws.root)
    line = assert_one_line_error(done, 50, "release rollback to 1.0 failed")
    assert "undid 2 of 2 steps" in line
    assert ws.models.resolve(f"model:{MODEL}@production").number == 2
    assert ws.models.resolve(f"model:{MODEL}@champion").number == 2


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["release", "show", "nope"], 2, "there is no release nope"),
        (["release", "create", "bad name!"], 2, "is not a release name"),
        (["release", "create", "1.0"], 2, "exists already"),
        (["release", "rollback", "ghost"], 2, "there is no release ghost"),
        (["release", "create", "2.0", "--table", "table:ghost@1"], 20, "ghost"),
    ],
)
def test_bad_input(make_workspace: Any, cli: Any, args: list[str], code: int, words: str) -> None:
    ws = make_workspace()
    ws.tables.create("deliveries", pa.table({"id": [1]}))
    ws.recovery.releases.create("1.0")
    before = [r.name for r in ws.recovery.releases.all()]
    assert_one_line_error(cli(*args, cwd=ws.root), code, words)
    assert [r.name for r in ws.recovery.releases.all()] == before
