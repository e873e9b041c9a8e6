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


def test_a_walk_to_a_depth_keeps_each_node_at_its_shortest_depth(lws: Workspace) -> None:
    """An incremental table: version N+1 is made from version N, and every version feeds a
    report. From every version at once, a node reached by paths of many lengths is found at
    the shortest; the edges among the nodes reached at the last level are kept too; and a
    walk deep enough finds what the walk to any depth finds."""
    link = lws.lineage.link
    for n in range(1, 8):
        link(f"table:t@{n}", f"table:t@{n + 1}")
        link(f"table:t@{n}", f"table:report@{n}")
    link("table:report@1", "table:report@2")  # both reached at depth 1: an edge among them
    roots = "table:t@1..7"
    one = lws.lineage.graph(roots, direction="downstream", depth=1)
    assert {r for r in one.refs() if "report" in r} == {f"table:report@{n}" for n in range(1, 8)}
    assert ("table:report@1", "table:report@2") in {(e.src, e.dst) for e in one.edges}
    assert "table:t@8" in one.refs() and max(one.depths().values()) == 1
    deep = lws.lineage.graph(roots, direction="downstream", depth=999)
    whole = lws.lineage.graph(roots, direction="downstream")
    assert set(deep.edges) == set(whole.edges) and len(whole.edges) == 15
    up = lws.lineage.graph("table:report@7", direction="upstream", depth=3)
    assert set(up.refs()) == {"table:report@7", "table:t@7", "table:t@6", "table:t@5"}


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
