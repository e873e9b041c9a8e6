"""Commits an Iceberg client makes (requirements and pyiceberg updates) on Strata's catalog:
a version naming the acting user, all or nothing, pins respected; tables made from Iceberg's
own schema; renames and drops that keep files; and the namespaces clients create."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.table.update import (
    RemoveSnapshotRefUpdate,
    RemoveSnapshotsUpdate,
    SetCurrentSchemaUpdate,
)

from strata import Workspace
from strata.errors import (
    TableConflictError,
    TableExistsError,
    TablePinnedError,
    UserInputError,
)
from strata.tables.iceberg import IcebergTable
from strata.tables.iceberg_commits import TableChange
from strata.tables.iceberg_namespaces import IcebergNamespaces
from tabledata import deliveries


@pytest.fixture
def ice_ws(table_ws: Workspace) -> Workspace:
    table_ws.tables.create("events", deliveries(range(3)), format="iceberg")
    table_ws.tables.create("other", deliveries(range(2)), format="iceberg")
    return table_ws


def _ice(ws: Workspace, name: str) -> Any:
    table = ws.tables.open(name)
    assert isinstance(table, IcebergTable)
    return table.iceberg()


def _append(ws: Workspace, name: str, rows: pa.Table, **props: str) -> TableChange:
    """What a client sends to append ``rows`` to the table as it is now (uncommitted)."""
    tx = _ice(ws, name).transaction()
    tx.append(rows, snapshot_properties=props)
    return TableChange(name, tx._requirements, tx._updates)


def _metadata_files(ws: Workspace, name: str) -> set[Path]:
    return set((Path(ws.tables.info(name).location) / "metadata").glob("*.metadata.json"))


def test_a_commit_is_a_version_naming_the_acting_user_not_the_clients_claim(
    ice_ws: Workspace,
) -> None:
    change = _append(ice_ws, "events", deliveries(range(10, 14)), **{"strata.user": "mallory"})
    [done] = ice_ws.tables.acting_as("ana").commit_iceberg([change])
    assert done.version == 2 and done.metadata_location.endswith(".metadata.json")
    latest = ice_ws.tables.open("events").history()[0]
    assert (latest.version, latest.operation, latest.user) == (2, "APPEND", "ana")
    assert latest.rows_written == 4 and latest.row_count == 7  # stats from the metadata
    hint = Path(ice_ws.tables.info("events").location) / "metadata" / "version-hint.text"
    assert hint.read_text() == "2"


def test_a_stale_requirement_conflicts_and_writes_nothing(ice_ws: Workspace) -> None:
    first = _append(ice_ws, "events", deliveries(range(10, 11)))
    stale = _append(ice_ws, "events", deliveries(range(20, 21)))
    ice_ws.tables.commit_iceberg([first])
    before = (_ice(ice_ws, "events").metadata_location, _metadata_files(ice_ws, "events"))
    with pytest.raises(TableConflictError, match="events"):
        ice_ws.tables.commit_iceberg([stale])
    after = (_ice(ice_ws, "events").metadata_location, _metadata_files(ice_ws, "events"))
    assert after == before
    ice_ws.tables.commit_iceberg([_append(ice_ws, "events", deliveries(range(20, 21)))])
    assert ice_ws.table("events").to_arrow().num_rows == 5  # the retry on fresh metadata


def test_several_tables_commit_all_or_nothing(ice_ws: Workspace) -> None:
    stale = _append(ice_ws, "other", deliveries(range(10, 11)))
    ice_ws.tables.commit_iceberg([_append(ice_ws, "other", deliveries(range(20, 21)))])
    fresh = _append(ice_ws, "events", deliveries(range(10, 11)))
    with pytest.raises(TableConflictError, match="other"):
        ice_ws.tables.commit_iceberg([fresh, stale])
    assert ice_ws.table("events").latest_version() == 1, "the fresh change was not applied"
    both = [fresh, _append(ice_ws, "other", deliveries(range(30, 31)))]
    assert [d.version for d in ice_ws.tables.commit_iceberg(both)] == [2, 3]


def test_expiring_a_pinned_version_or_dropping_its_tag_is_refused_naming_the_pin(
    ice_ws: Workspace,
) -> None:
    ice_ws.tables.commit_iceberg([_append(ice_ws, "events", deliveries(range(10, 11)))])
    ice_ws.tables.pin("events", 1, by="model:clf@3")
    snapshot = next(s for s in _ice(ice_ws, "events").snapshots() if s.sequence_number == 1)
    for update in (
        RemoveSnapshotsUpdate(snapshot_ids=[snapshot.snapshot_id]),
        RemoveSnapshotRefUpdate(ref_name="strata-pin-1"),
    ):
        with pytest.raises(TablePinnedError, match=r"version 1, pinned by model:clf@3"):
            ice_ws.tables.commit_iceberg([TableChange("events", (), (update,))])
    assert ice_ws.table("events").at(1).to_arrow().num_rows == 3


def test_an_update_the_metadata_cannot_take_is_bad_input(ice_ws: Workspace) -> None:
    before = _ice(ice_ws, "events").metadata_location
    with pytest.raises(UserInputError, match="cannot commit to table events"):
        ice_ws.tables.commit_iceberg([TableChange("events", (), (SetCurrentSchemaUpdate(),))])
    assert _ice(ice_ws, "events").metadata_location == before


def test_a_table_from_icebergs_own_schema_renamed_and_dropped_keeping_its_files(
    ice_ws: Workspace,
) -> None:
    schema = _ice(ice_ws, "events").schema()
    made = ice_ws.tables.create_iceberg("sales.orders", schema, properties={"owner": "ana"})
    assert made.latest_version() == 0 and made.history() == []
    with pytest.raises(TableExistsError):
        ice_ws.tables.create_iceberg("sales.orders", schema)
    ice_ws.tables.commit_iceberg([_append(ice_ws, "sales.orders", deliveries(range(5)))])
    renamed = ice_ws.tables.rename("sales.orders", "sales.bookings")
    assert ice_ws.table("sales.bookings").to_arrow().num_rows == 5
    assert _ice(ice_ws, "sales.bookings").properties["owner"] == "ana"
    ice_ws.tables.pin("sales.bookings", 1)
    with pytest.raises(TablePinnedError, match=r"sales\.bookings"):
        ice_ws.tables.rename("sales.bookings", "sales.x")
    ice_ws.tables.unpin("sales.bookings", 1)
    ice_ws.tables.drop("sales.bookings", force=True, keep_files=True)
    assert Path(renamed.location, "metadata").is_dir()
    assert "sales.bookings" not in {t.name for t in ice_ws.tables.list()}


def test_namespaces_keep_their_properties(ice_ws: Workspace) -> None:
    spaces = IcebergNamespaces(ice_ws.tables.db.url)
    spaces.create(("sales",), {"owner": "ana"})
    spaces.create(("sales", "eu"), {})
    with pytest.raises(TableExistsError):
        spaces.create(("sales",), {})
    assert set(spaces.all()) == {("sales",), ("sales", "eu")}
    assert spaces.update(("sales",), {"owner", "none"}, {"team": "ops"}) == (
        ["team"],
        ["owner"],
        ["none"],
    )
    assert spaces.properties(("sales",)) == {"team": "ops"}
    with pytest.raises(UserInputError, match="both removed and set"):
        spaces.update(("sales",), {"team"}, {"team": "x"})
    spaces.drop(("sales", "eu"))
    assert spaces.properties(("sales", "eu")) is None


def test_a_location_from_the_network_must_be_inside_the_table_root(ice_ws: Workspace) -> None:
    root = Path(ice_ws.tables.default_location("x")).parent
    assert ice_ws.tables.in_root(str(root / "sales" / "orders"))
    assert ice_ws.tables.in_root(f"file://{root}/orders")
    for outside in (str(root), str(root / ".." / "x"), "/etc", "s3://bucket/x"):
        assert not ice_ws.tables.in_root(outside), outside
