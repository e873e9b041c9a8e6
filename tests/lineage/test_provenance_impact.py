"""Provenance (question 1 and 4) and impact analysis (question 2).

Table and model details (row counts, schema hashes, semvers, stages, aliases) come from the
table catalog and model registry through the Describer interface; these tests plug a
FakeDescriber in, to state exactly what each version is (tests/lineage/
test_with_tables_and_models.py runs the same paths with the real catalog and registry)."""

from __future__ import annotations

import json

import pytest

from factories import Cli, assert_one_line_error, commit_all, write
from lineage_support import FakeDescriber, fake_resolver, wire
from strata import Workspace
from strata.errors import LineageError

TABLES = {
    "table:deliveries@47": {"timestamp": "2024-09-30T23:59:59+00:00", "row_count": 1200,
                            "schema_hash": "ab12cd34ef56aa"},
    "model:delay-classifier@3": {"semver": "v1.1.0", "stages": ["production"],
                                 "aliases": ["champion"]},
}  # fmt: skip


def _trained(ws: Workspace) -> str:
    wire(
        ws,
        describers=[FakeDescriber(TABLES)],
        resolver=fake_resolver({"model:delay-classifier@production": "model:delay-classifier@3"}),
    )
    ws.lineage.register_features("delivery", ["distance_km", "weather"])
    with ws.run("train", params={"lr": 0.1}) as run:
        run.input("table:deliveries@47")
        run.input("file:raw.csv")
        run.input("features:delivery@1")
        run.output("model:delay-classifier@3")
        run.log_metric("auc", 0.91)
    ws.lineage.record_deployment(
        "model:delay-classifier@production", target="prod-serving", image="ml-serving:2024.10.15"
    )
    return run.ref


def test_provenance_has_the_whole_chain(lws: Workspace) -> None:
    run_ref = _trained(lws)
    chain = lws.lineage.provenance("model:delay-classifier@production")
    assert chain["ref"] == "model:delay-classifier@3"
    assert chain["artifact"]["semver"] == "v1.1.0"
    assert chain["artifact"]["aliases"] == ["champion"]
    data = {d["ref"]: d for d in chain["data"]}
    assert data["table:deliveries@47"]["row_count"] == 1200
    assert data["table:deliveries@47"]["schema_hash"] == "ab12cd34ef56aa"
    [raw] = [d for d in data.values() if d["ref"].startswith("file:raw.csv@")]
    assert raw["hash"].startswith(raw["ref"].split("@")[1]) and raw["size"] > 0
    assert [f["ref"] for f in chain["features"]] == ["features:delivery@1"]
    assert chain["features"][0]["features"] == ["distance_km", "weather"]
    [run] = chain["runs"]
    assert run["ref"] == run_ref and run["params"] == {"lr": 0.1}
    assert run["metrics"] == {"auc": 0.91}
    assert run["environment"]["packages"] and run["environment"]["python"]
    [code] = chain["code"]
    assert code["commit"] == (lws.git.head() if lws.git else None) and code["dirty"] is False
    [deployment] = chain["deployments"]
    assert deployment["target"] == "prod-serving"
    assert deployment["image"] == "ml-serving:2024.10.15"
    assert chain["warnings"] == []
    json.dumps(chain, default=str)  # the audit record serialises


def test_provenance_warns_about_a_dirty_tree_and_a_failed_run(sqlite_ws: Workspace) -> None:
    write(sqlite_ws.root / "train.py", "v1\n")
    commit_all(sqlite_ws.root, "code")
    write(sqlite_ws.root / "train.py", "v2, not committed\n")
    with pytest.raises(RuntimeError), sqlite_ws.run("train") as run:
        run.output("model:m@1")
        raise RuntimeError("out of memory")
    warnings = sqlite_ws.lineage.provenance("model:m@1")["warnings"]
    assert any("uncommitted changes" in w for w in warnings)
    assert any("failed: its outputs may be partial" in w for w in warnings)


def test_impact_of_a_range_names_models_and_where_they_serve(lws: Workspace) -> None:
    _trained(lws)
    lws.lineage.link("table:deliveries@30", "model:delay-classifier@2", "trained-on")
    result = lws.lineage.impact("table:deliveries@40..52", suggest=True)
    [model] = result.models()
    assert model.ref == "model:delay-classifier@3"
    assert model.path[0] == "table:deliveries@47" and model.path[1].startswith("run:")
    assert model.details["stages"] == ["production"]
    assert model.details["deployments"][0]["target"] == "prod-serving"
    assert {a.kind for a in result.affected} == {"run", "model", "deployment"}
    assert result.suggestions == {"model:delay-classifier": "model:delay-classifier@2"}


def test_archive_needs_a_registry_and_a_reason(sqlite_ws: Workspace) -> None:
    _trained(sqlite_ws)
    archived: list[tuple[str, str]] = []
    wire(sqlite_ws, archiver=None)  # a Lineage without a registry
    with pytest.raises(LineageError, match="no model registry"):
        sqlite_ws.lineage.impact("table:deliveries@47", archive_reason="bad rows")
    wire(sqlite_ws, archiver=lambda ref, reason: archived.append((ref, reason)))
    with pytest.raises(LineageError, match="no reason given"):
        sqlite_ws.lineage.impact("table:deliveries@47", archive_reason=" ")
    result = sqlite_ws.lineage.impact("table:deliveries@47", archive_reason="bad rows")
    assert archived == [("model:delay-classifier@3", "bad rows")]
    assert result.archived == ["model:delay-classifier@3"]


def test_provenance_and_impact_commands(sqlite_ws: Workspace, cli: Cli) -> None:
    with sqlite_ws.run("train") as run:
        run.input("file:raw.csv")
        run.output("model:clf@1")
    sqlite_ws.lineage.record_deployment("model:clf@1", target="prod")
    root = sqlite_ws.root
    text = cli("provenance", "model:clf@1", cwd=root).stdout
    assert "file:raw.csv@" in text and "prod" in text and "(main, clean)" in text
    data = cli("provenance", "model:clf@1", "--json", cwd=root).json()
    assert isinstance(data, dict) and data["runs"][0]["ref"] == run.ref
    raw = cli("impact", data["data"][0]["ref"], "--suggest", cwd=root).stdout
    assert "model:clf@1" in raw and "deployed to prod" in raw
    assert "rollback model:clf: no unaffected version recorded" in raw


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["provenance", "model:clf@9"], 40, "nothing is recorded about model:clf@9"),
        (["provenance", "model:clf@production"], 30, "no model named 'clf'"),
        (["impact", "table:d@52..40"], 2, "runs backwards"),
        (["impact", "table:d@1", "--archive"], 2, "--archive needs --reason"),
        (["impact", "file:raw.csv@ffffffff"], 11, "'ffffffff' does not exist"),
    ],
)
def test_bad_provenance_and_impact_input(
    sqlite_ws: Workspace, cli: Cli, args: list[str], code: int, fragment: str
) -> None:
    assert_one_line_error(cli(*args, cwd=sqlite_ws.root), code, fragment)
