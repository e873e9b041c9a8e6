"""A registration ties the model version to its data: exact versions, pins, lineage edges."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from factories import assert_one_line_error, write
from strata.errors import TableNotFoundError


def _workspace_with_table(make_workspace: Any) -> Any:
    ws = make_workspace()
    ws.tables.create("deliveries", pa.table({"id": [1, 2]}))
    ws.table("deliveries").append(pa.table({"id": [3]}))
    return ws


def test_moving_data_refs_are_recorded_exactly_and_pinned(make_workspace: Any) -> None:
    ws = _workspace_with_table(make_workspace)
    features = ws.lineage.register_features("delivery", ["distance_km", "weather"])
    version = ws.models.register(
        "clf",
        write(ws.root / "m.json", "{}"),
        data=["table:deliveries@latest"],
        features="features:delivery@latest",
    )
    assert version.data == ("table:deliveries@1",)
    assert version.features == features.ref
    [pin] = ws.tables.pins("deliveries")
    assert (pin.version, pin.pinned_by) == (1, "model:clf@1")

    upstream = set(ws.lineage.graph("model:clf@1", direction="upstream").refs())
    assert {"table:deliveries@1", features.ref} <= upstream
    affected = [a.ref for a in ws.lineage.impact("table:deliveries@1").affected]
    assert affected == ["model:clf@1"]


def test_a_pinned_training_version_blocks_dropping_the_table(make_workspace: Any, cli: Any) -> None:
    ws = _workspace_with_table(make_workspace)
    ws.models.register("clf", write(ws.root / "m.json", "{}"), data=["table:deliveries@0"])
    done = cli("table", "drop", "deliveries", "--force", cwd=ws.root)
    assert done.code != 0 and "model:clf@1" in done.stderr
    assert [t.name for t in ws.tables.list()] == ["deliveries"]


def test_an_unknown_table_registers_nothing(make_workspace: Any, cli: Any) -> None:
    ws = _workspace_with_table(make_workspace)
    write(ws.root / "m.json", "{}")
    with pytest.raises(TableNotFoundError):
        ws.models.register("clf", ws.root / "m.json", data=["table:ghost@1"])
    done = cli("model", "register", "clf", "m.json", "--data", "table:deliveries@9", cwd=ws.root)
    assert_one_line_error(done, 20, "deliveries")
    assert ws.models.list_models() == []
