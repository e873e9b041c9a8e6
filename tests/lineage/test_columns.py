"""Column-level lineage from OpenLineage's ``columnLineage`` facet: ``strata impact`` of one
column of a table version names what used that column, where the events say so.

A Spark job reads table:deliveries@0 and writes gold@3: ``delay_avg`` from ``delay_min``,
``weather`` from ``weather``. A second job reads gold@3 and writes platinum@1: ``delay_p90``
from ``delay_avg`` only. A model is trained on platinum@1."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from factories import Cli, write
from openlineage_events import PRODUCER, dataset, run_event
from strata import Workspace
from strata.errors import LineageError
from strata.lineage.columns import column_ref, data_of, split_column

GOLD = "dataset:s3://lake/gold@3"
PLATINUM = "dataset:s3://lake/platinum@1"


def _columns(out: dict[str, Any], **fields: list[tuple[str, str, str]]) -> dict[str, Any]:
    """``out`` with a columnLineage facet: output field → [(namespace, name, input field)]."""
    facet = {
        "_producer": PRODUCER,
        "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json",
        "fields": {
            name: {"inputFields": [{"namespace": n, "name": d, "field": f} for n, d, f in inputs]}
            for name, inputs in fields.items()
        },
    }
    return {**out, "facets": {**out.get("facets", {}), "columnLineage": facet}}


@pytest.fixture
def ws(sqlite_ws: Workspace) -> Workspace:
    ws = sqlite_ws
    write(ws.root / "d.csv", "id,delay_min,weather\n1,5,rain\n2,7,sun\n")
    location = ws.tables.create("deliveries", data=str(ws.root / "d.csv")).location
    table = dataset("file", location, "0")
    gold = dataset("s3://lake", "gold", "3")
    first = run_event(
        "COMPLETE", str(uuid.uuid4()), job="gold", inputs=[table],
        outputs=[_columns(gold, delay_avg=[("file", location, "delay_min")],
                          weather=[("file", location, "weather")])],
    )  # fmt: skip
    second = run_event(
        "COMPLETE", str(uuid.uuid4()), job="platinum", inputs=[gold],
        outputs=[_columns(dataset("s3://lake", "platinum", "1"),
                          delay_p90=[("s3://lake", "gold", "delay_avg")])],
    )  # fmt: skip
    for event in (first, second):
        ws.lineage.record_event(ws.lineage.check_event(event))
    write(ws.root / "m.bin", "model")
    ws.models.register("clf", ws.root / "m.bin", data=[PLATINUM])
    return ws


def test_the_column_goes_through_every_version_computed_from_it(ws: Workspace) -> None:
    result = ws.lineage.impact("table:deliveries@0#delay_min")
    assert result.roots == ["column:table:deliveries@0#delay_min"]
    by_ref = {a.ref: a for a in result.affected}
    assert by_ref[GOLD].details["columns"] == ["delay_avg"]
    assert by_ref[PLATINUM].details["columns"] == ["delay_p90"]
    assert by_ref[PLATINUM].path == [
        "column:table:deliveries@0#delay_min",
        f"column:{GOLD}#delay_avg",
        f"column:{PLATINUM}#delay_p90",
    ]
    assert "model:clf@1" in by_ref
    assert by_ref["model:clf@1"].path[-2:] == [PLATINUM, "model:clf@1"]


def test_a_column_that_did_not_go_on_stops_where_the_events_say(ws: Workspace) -> None:
    """weather went into gold@3, and not into platinum@1 (its column lineage says so): neither
    platinum nor the model trained on it is affected; the version-level impact has both."""
    result = ws.lineage.impact("table:deliveries@0#weather")
    refs = {a.ref for a in result.affected}
    assert GOLD in refs
    assert not refs & {PLATINUM, "model:clf@1"}
    whole = {a.ref for a in ws.lineage.impact("table:deliveries@0").affected}
    assert {GOLD, PLATINUM, "model:clf@1"} <= whole


def test_a_column_no_event_named_is_refused(ws: Workspace) -> None:
    with pytest.raises(LineageError, match="columnLineage names column 'id'"):
        ws.lineage.impact("table:deliveries@0#id")


def test_the_column_lineage_of_a_table_leaves_its_graph_alone(ws: Workspace) -> None:
    refs = {n["ref"] for n in ws.lineage.graph("table:deliveries@0").to_dict()["nodes"]}
    assert not any(r.startswith("column:") for r in refs)


def test_impact_of_a_column_on_the_command_line(ws: Workspace, cli: Cli) -> None:
    out = cli("impact", "table:deliveries@0#delay_min", "--json", cwd=ws.root)
    assert out.code == 0, out.stderr
    assert {a["ref"] for a in out.json()["affected"]} >= {GOLD, PLATINUM, "model:clf@1"}


@pytest.mark.parametrize(
    ("text", "split"),
    [
        ("table:deliveries@4#delay_min", ("table:deliveries@4", "delay_min")),
        ("table:deliveries@4", ("table:deliveries@4", None)),
        ("dataset:s3://b/x@2#a%23b", ("dataset:s3://b/x@2", "a#b")),
        ("dataset:s3://b/x#y/z", ("dataset:s3://b/x#y/z", None)),
    ],
)
def test_refs_with_columns(text: str, split: tuple[str, str | None]) -> None:
    assert split_column(text) == split
    if split[1] is not None:
        assert data_of(column_ref(*split)) == split  # type: ignore[arg-type]
