"""Feature sets (content-hashed versions) and deployments."""

from __future__ import annotations

import pytest

from factories import Cli, assert_one_line_error, write
from lineage_support import FakeDescriber, row_counts, wire
from strata import Workspace
from strata.errors import LineageError, UserInputError


def test_same_content_same_version_new_content_new_version(lws: Workspace) -> None:
    first = lws.lineage.register_features("delivery", ["distance_km", "weather"])
    again = lws.lineage.register_features("delivery", ["distance_km", "weather"])
    other = lws.lineage.register_features("delivery", ["distance_km", "weather"], "x = 1")
    assert (first.ref, again.ref, other.ref) == (
        "features:delivery@1",
        "features:delivery@1",
        "features:delivery@2",
    )
    assert first.new and not again.new and other.new
    assert first.content_hash == again.content_hash != other.content_hash
    assert lws.lineage.exact("features:delivery@latest") == "features:delivery@2"


def test_a_run_links_a_feature_set(sqlite_ws: Workspace) -> None:
    sqlite_ws.lineage.register_features("delivery", ["a"])
    with sqlite_ws.run("train") as run:
        run.input("features:delivery@latest")
    assert sqlite_ws.lineage.run(run.ref).inputs == ("features:delivery@1",)


@pytest.mark.parametrize(
    ("name", "features", "error"),
    [
        ("delivery", [], "needs feature names"),
        ("delivery", ["a", "a"], "names a feature twice"),
        ("bad name", ["a"], "bad ref"),
        ("delivery", ["a", ""], "needs feature names"),
    ],
)
def test_bad_feature_sets_write_nothing(
    sqlite_ws: Workspace, name: str, features: list[str], error: str
) -> None:
    before = row_counts(sqlite_ws)
    with pytest.raises(UserInputError, match=error):
        sqlite_ws.lineage.register_features(name, features)
    assert row_counts(sqlite_ws) == before


def test_an_unknown_feature_set_version(sqlite_ws: Workspace) -> None:
    with pytest.raises(LineageError, match=r"features:delivery@3 does not exist"):
        sqlite_ws.lineage.exact("features:delivery@3")


def test_a_deployment_links_a_model_version_to_where_it_serves(lws: Workspace) -> None:
    with lws.run("train") as run:
        run.output("model:clf@3")
    found = lws.lineage.record_deployment(
        "model:clf@3", target="prod-serving", image="ml-serving:2024.10.15"
    )
    assert [d.ref for d in lws.lineage.deployments("model:clf@3")] == [found.ref]
    g = lws.lineage.graph("model:clf@3", direction="downstream")
    assert [(e.src, e.dst, e.kind) for e in g.edges] == [("model:clf@3", found.ref, "deployed")]
    assert g.labels[found.ref] == "prod-serving, ml-serving:2024.10.15"


def test_a_deployment_of_a_version_nothing_knows_is_refused(sqlite_ws: Workspace) -> None:
    before = row_counts(sqlite_ws)
    with pytest.raises(LineageError, match="model:ghost@9 is not known"):
        sqlite_ws.lineage.record_deployment("model:ghost@9", target="prod")
    assert row_counts(sqlite_ws) == before


def test_the_registry_describer_makes_a_version_known(sqlite_ws: Workspace) -> None:
    wire(sqlite_ws, describers=[FakeDescriber({"model:clf@1": {"semver": "v1.0.0"}})])
    assert sqlite_ws.lineage.record_deployment("model:clf@1", target="prod").model == "model:clf@1"


def test_features_and_deploy_commands(sqlite_ws: Workspace, cli: Cli) -> None:
    root = sqlite_ws.root
    write(root / "features.py", "distance_km = km\n")
    out = cli("features", "register", "delivery", "--features", "a,b", "--definition",
              "features.py", "--json", cwd=root)  # fmt: skip
    assert out.code == 0, out.stderr
    shown = out.json()
    assert isinstance(shown, dict) and shown["ref"] == "features:delivery@1"
    assert shown["definition"] == "distance_km = km\n"
    assert "features:delivery@1 (unchanged)" in cli(
        "features", "register", "delivery", "--features", "a,b", "--definition", "features.py",
        cwd=root,
    ).stdout  # fmt: skip
    assert "features:delivery@1  a, b" in cli("features", "list", cwd=root).stdout
    sqlite_ws.lineage.link("features:delivery@1", "model:clf@2", "features")
    out = cli("deploy", "record", "model:clf@2", "--target", "prod-serving", "--image", "img:1",
              cwd=root)  # fmt: skip
    assert out.code == 0 and "model:clf@2 -> prod-serving" in out.stdout
    listed = cli("deploy", "list", "--json", cwd=root).json()
    assert isinstance(listed, list) and listed[0]["image"] == "img:1"


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["features", "register", "f", "--features", ","], 2, "needs feature names"),
        (["features", "register", "f", "--features", "a", "--definition", "nope.py"], 2, "nope.py"),
        (["deploy", "record", "table:x@1", "--target", "p"], 2, "expected a model ref"),
        (["deploy", "record", "model:x@production", "--target", "p"], 30, "no model named 'x'"),
        (["deploy", "record", "model:x@1", "--target", "p"], 40, "model:x@1 is not known"),
    ],
)
def test_bad_feature_and_deploy_input(
    sqlite_ws: Workspace, cli: Cli, args: list[str], code: int, fragment: str
) -> None:
    before = row_counts(sqlite_ws)
    assert_one_line_error(cli(*args, cwd=sqlite_ws.root), code, fragment)
    assert row_counts(sqlite_ws) == before
