"""The lineage graph: upstream, downstream, depth, ranges, formats, on both databases."""

from __future__ import annotations

import json

import pytest

from factories import Cli, assert_one_line_error
from strata import Workspace
from strata.errors import LineageError


def _chain(ws: Workspace) -> tuple[str, str]:
    """table:raw@1 → prep → table:clean@1 → train → model:clf@1 → deployment."""
    with ws.run("prep") as prep:
        prep.input("table:raw@1")
        prep.output("table:clean@1")
    with ws.run("train") as train:
        train.input("table:clean@1")
        train.output("model:clf@1")
    ws.lineage.record_deployment("model:clf@1", target="prod")
    return prep.ref, train.ref


def test_downstream_and_upstream_follow_edges_transitively(lws: Workspace) -> None:
    prep, train = _chain(lws)
    down = lws.lineage.graph("table:raw@1", direction="downstream")
    refs = down.refs()
    assert refs[:5] == ["table:raw@1", prep, "table:clean@1", train, "model:clf@1"]
    assert refs[5].startswith("deployment:")
    assert down.paths()["model:clf@1"] == ["table:raw@1", prep, "table:clean@1", train,
                                           "model:clf@1"]  # fmt: skip
    up = lws.lineage.graph("model:clf@1", direction="upstream")
    assert set(up.refs()) == {"model:clf@1", train, "table:clean@1", prep, "table:raw@1"}


def test_depth_limits_the_walk(sqlite_ws: Workspace) -> None:
    prep, _ = _chain(sqlite_ws)
    g = sqlite_ws.lineage.graph("table:raw@1", direction="downstream", depth=2)
    assert g.refs() == ["table:raw@1", prep, "table:clean@1"]


def test_a_cycle_ends(lws: Workspace) -> None:
    lws.lineage.link("table:a@1", "table:b@1")
    lws.lineage.link("table:b@1", "table:a@1")
    assert set(lws.lineage.graph("table:a@1").refs()) == {"table:a@1", "table:b@1"}


def test_a_range_starts_from_every_recorded_version_in_it(lws: Workspace) -> None:
    for version in (39, 40, 45, 53):
        lws.lineage.link(f"table:deliveries@{version}", f"model:m@{version}")
    g = lws.lineage.graph("table:deliveries@40..52", direction="downstream")
    assert g.roots == ("table:deliveries@40", "table:deliveries@45")
    assert {e.dst for e in g.edges} == {"model:m@40", "model:m@45"}


def test_nothing_recorded_is_an_error(sqlite_ws: Workspace) -> None:
    with pytest.raises(LineageError, match=r"nothing is recorded about table:ghost@1"):
        sqlite_ws.lineage.graph("table:ghost@1")
    with pytest.raises(LineageError, match=r"any version in table:ghost@1..5"):
        sqlite_ws.lineage.graph("table:ghost@1..5")


def test_formats(sqlite_ws: Workspace, cli: Cli) -> None:
    _chain(sqlite_ws)
    root = sqlite_ws.root
    text = cli("lineage", "model:clf@1", "--upstream", cwd=root).stdout
    assert "upstream:" in text and "<- table:raw@1  [input]" in text
    data = json.loads(cli("lineage", "model:clf@1", "--format", "json", cwd=root).stdout)
    assert {n["ref"]: n["depth"] for n in data["nodes"]}["table:raw@1"] == -4
    dot = cli("lineage", "table:raw@1", "--downstream", "--format", "dot", cwd=root).stdout
    assert dot.startswith("digraph lineage {") and '[label="deployed"]' in dot
    mermaid = cli("lineage", "table:raw@1", "-f", "mermaid", cwd=root).stdout
    assert mermaid.startswith("flowchart LR") and "-->|input|" in mermaid


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["lineage", "table:ghost@1"], 40, "nothing is recorded about table:ghost@1"),
        (["lineage", "table:raw@5..2"], 2, "runs backwards"),
        (["lineage", "table:raw@1", "--format", "png"], 2, "bad --format 'png'"),
        (["lineage", "table:raw@1", "--upstream", "--downstream"], 2, "together"),
        (["lineage", "table:raw@2024-01-01..2024-02-01"], 40, "timestamp range"),
        (["lineage", "release:r1"], 2, "expected a table"),
    ],
)
def test_bad_lineage_input(
    sqlite_ws: Workspace, cli: Cli, args: list[str], code: int, fragment: str
) -> None:
    _chain(sqlite_ws)
    assert_one_line_error(cli(*args, cwd=sqlite_ws.root), code, fragment)
