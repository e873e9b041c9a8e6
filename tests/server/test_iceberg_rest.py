"""The Iceberg REST catalog on a real ``strata server``, driven by pyiceberg's RestCatalog,
DuckDB's iceberg extension and raw HTTP: namespaces, tables, commits that become Strata
versions, conflicts, permissions and bad input, each error in the spec's shape.

One server per database (SQLite, PostgreSQL) for the module; each test works on tables of
its own."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow as pa
import pytest
from pyiceberg.catalog.rest import RestCatalog
from pyiceberg.exceptions import (
    CommitFailedException,
    ForbiddenError,
    NamespaceAlreadyExistsError,
    NamespaceNotEmptyError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.types import StringType

from server_support import Server, Site, make_site, served

ICE = "/iceberg/v1"
ROWS = pa.schema([pa.field("id", pa.int64()), pa.field("name", pa.string())])


def rows(*ids: int) -> pa.Table:
    return pa.table({"id": pa.array(ids, pa.int64()), "name": [f"n{i}" for i in ids]}, ROWS)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """make_site's users and Delta table, and Iceberg tables the tests share read-only or
    own: events (3 rows), guarded (bo may edit it), racing, pinned, txa, txb, duck."""
    db_url = None
    if request.param == "postgresql":
        db_url = request.getfixturevalue("postgres_cluster").create_database()
    made = make_site(tmp_path_factory.mktemp(request.param) / "ws", db_url)
    with made.workspace() as ws:
        for name in ("events", "guarded", "racing", "pinned", "txa", "txb", "duck"):
            ws.tables.create(name, rows(1, 2, 3), format="iceberg")
        ws.users.grant("bo", "table:guarded", "editor", by="tests")
    return made


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    yield from served(site)


def catalog(server: Server, token: str) -> RestCatalog:
    return RestCatalog("strata", uri=f"{server.url}/iceberg", token=token)


def no_client_retries(ice: RestCatalog, name: str) -> Any:
    """The table, its clients told not to retry a failed commit by themselves (pyiceberg
    otherwise does, so the 409 would not reach the test)."""
    table = ice.load_table(name)
    with table.transaction() as setup:
        setup.set_properties({"commit.retry.num-retries": "0"})
    return table.refresh()


def error(response: httpx.Response, status: int, kind: str) -> str:
    """The message of an error in the spec's shape, after checking its status and type."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "code"}
    assert (body["error"]["code"], body["error"]["type"]) == (status, kind)
    message: str = body["error"]["message"]
    assert "Traceback" not in message and "\n" not in message
    return message


def history(site: Site, name: str) -> list[Any]:
    with site.workspace() as ws:
        return ws.tables.open(name).history()


def metadata(client: httpx.Client, table: str) -> dict[str, Any]:
    response = client.get(f"{ICE}/namespaces/default/tables/{table}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_config_and_namespaces_round_trip(server: Server, site: Site) -> None:
    with server.client(site.tokens["ana"]) as client:
        endpoints = client.get(f"{ICE}/config").json()["endpoints"]
        assert "POST /v1/{prefix}/transactions/commit" in endpoints
    ice = catalog(server, site.tokens["ana"])
    assert ("default",) in ice.list_namespaces()
    ice.create_namespace("crm", {"owner": "ana"})
    assert ice.load_namespace_properties("crm") == {"owner": "ana"}
    assert ice.namespace_exists("crm") and not ice.namespace_exists("nowhere")
    summary = ice.update_namespace_properties("crm", removals={"owner"}, updates={"team": "a"})
    assert (summary.removed, summary.updated) == (["owner"], ["team"])
    with pytest.raises(NamespaceAlreadyExistsError):
        ice.create_namespace("crm")
    ice.create_table("crm.leads", schema=ROWS)
    with pytest.raises(TableAlreadyExistsError):
        ice.create_table("crm.leads", schema=ROWS)
    with pytest.raises(NamespaceNotEmptyError):
        ice.drop_namespace("crm")
    ice.drop_table("crm.leads", purge_requested=True)
    ice.drop_namespace("crm")
    assert ("crm",) not in ice.list_namespaces()


def test_create_append_overwrite_delete_and_evolve_the_schema(server: Server, site: Site) -> None:
    ice = catalog(server, site.tokens["cy"])
    ice.create_namespace("lab")
    table = ice.create_table("lab.runs", schema=ROWS)
    table.append(rows(1, 2, 3))
    table.overwrite(rows(4, 5))
    table.delete("id = 4")
    with table.update_schema() as update:
        update.add_column("note", StringType())
    table.append(pa.table({"id": pa.array([6], pa.int64()), "name": ["n6"], "note": ["new"]}))
    got = ice.load_table("lab.runs").scan().to_arrow().sort_by("id").to_pylist()
    assert got == [{"id": 5, "name": "n5", "note": None}, {"id": 6, "name": "n6", "note": "new"}]
    commits = history(site, "lab.runs")
    assert {c.user for c in commits} == {"cy"}
    assert [(c.version, c.operation, c.row_count) for c in commits] == [
        (5, "APPEND", 2),  # with the new column
        (4, "OVERWRITE", 1),  # the delete of id 4: a rewrite of its file
        (3, "APPEND", 2),  # the overwrite: a delete of every row, then an append
        (2, "DELETE", 0),
        (1, "APPEND", 3),
    ]


def test_a_commit_is_a_strata_version_pinned_and_rolled_back_like_any_other(
    server: Server, site: Site
) -> None:
    ice = catalog(server, site.tokens["cy"])
    ice.load_table("default.pinned").append(rows(10, 11))
    latest = history(site, "pinned")[0]
    assert (latest.version, latest.user, latest.rows_written, latest.row_count) == (2, "cy", 2, 5)
    with site.workspace() as ws:
        ws.tables.pin("pinned", 2, by="model:clf@3")
        ws.table("pinned").restore(1)
        assert ws.table("pinned").vacuum(retain_hours=0, dry_run=True).kept_for_pins == (2,)
    assert ice.load_table("default.pinned").scan().to_arrow().num_rows == 3
    assert history(site, "pinned")[0].operation == "RESTORE"


def test_a_commit_removing_a_pinned_version_is_refused_naming_the_pin(
    server: Server, site: Site
) -> None:
    with site.workspace() as ws:
        ws.tables.pin("pinned", 1, by="release:2024.10")
    with server.client(site.tokens["ana"]) as client:
        before = metadata(client, "pinned")
        first = next(s for s in before["metadata"]["snapshots"] if s["sequence-number"] == 1)
        update = {"action": "remove-snapshots", "snapshot-ids": [first["snapshot-id"]]}
        response = client.post(
            f"{ICE}/namespaces/default/tables/pinned", json={"updates": [update]}
        )
        message = error(response, 409, "CommitFailedException")
        assert "version 1, pinned by release:2024.10" in message
        assert metadata(client, "pinned")["metadata-location"] == before["metadata-location"]


def test_a_stale_requirement_is_409_writes_nothing_and_the_retry_succeeds(
    server: Server, site: Site
) -> None:
    first, second = catalog(server, site.tokens["ana"]), catalog(server, site.tokens["cy"])
    no_client_retries(first, "default.racing")
    mine, theirs = first.load_table("default.racing"), second.load_table("default.racing")
    mine.append(rows(10))
    location = first.load_table("default.racing").metadata_location
    with pytest.raises(CommitFailedException):
        theirs.append(rows(20))
    assert first.load_table("default.racing").metadata_location == location
    theirs.refresh().append(rows(20))
    ids = second.load_table("default.racing").scan().to_arrow()["id"].to_pylist()
    assert sorted(ids) == [1, 2, 3, 10, 20]


def test_racing_appends_one_wins_each_other_retries_and_no_row_is_lost(
    server: Server, site: Site
) -> None:
    start = no_client_retries(catalog(server, site.tokens["ana"]), "default.racing")
    before = start.scan().to_arrow().num_rows
    writers, barrier = 4, threading.Barrier(4)
    conflicts: list[int] = []

    def write(number: int) -> None:
        table = catalog(server, site.tokens["cy"]).load_table("default.racing")
        barrier.wait()
        while True:
            try:
                table.append(rows(100 + number))
                return
            except CommitFailedException:
                conflicts.append(number)
                table = table.refresh()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(set(conflicts)) == writers - 1, "all but the first writer met a conflict"
    final = start.refresh()
    assert final.scan().to_arrow().num_rows == before + writers
    folder = Path(final.metadata_location).parent
    hinted = folder / f"v{(folder / 'version-hint.text').read_text()}.metadata.json"
    assert hinted.read_bytes() == Path(final.metadata_location).read_bytes(), "hint is current"


def test_transactions_commit_all_or_nothing(server: Server, site: Site) -> None:
    with server.client(site.tokens["ana"]) as client:
        uuids = {t: metadata(client, t)["metadata"]["table-uuid"] for t in ("txa", "txb")}

        def change(table: str, uuid: str) -> dict[str, Any]:
            return {
                "identifier": {"namespace": ["default"], "name": table},
                "requirements": [{"type": "assert-table-uuid", "uuid": uuid}],
                "updates": [{"action": "set-properties", "updates": {"batch": "7"}}],
            }

        stale = [change("txa", uuids["txa"]), change("txb", "00000000-0000-0000-0000-000000000000")]
        response = client.post(f"{ICE}/transactions/commit", json={"table-changes": stale})
        error(response, 409, "CommitFailedException")
        assert all("batch" not in metadata(client, t)["metadata"]["properties"] for t in uuids)
        fresh = [change(t, u) for t, u in uuids.items()]
        response = client.post(f"{ICE}/transactions/commit", json={"table-changes": fresh})
        assert response.status_code == 204, response.text
        assert all(metadata(client, t)["metadata"]["properties"]["batch"] == "7" for t in uuids)


def test_unknown_namespaces_and_tables_are_404(server: Server, site: Site) -> None:
    ice = catalog(server, site.tokens["ana"])
    with pytest.raises(NoSuchTableError):
        ice.load_table("default.nothing")
    with pytest.raises(NoSuchNamespaceError):
        ice.list_tables("nowhere")
    assert not ice.table_exists("default.nothing")
    with server.client(site.tokens["ana"]) as client:
        message = error(
            client.get(f"{ICE}/namespaces/default/tables/deliveries"), 404, "NoSuchTableException"
        )
        assert "Delta table" in message
        error(client.get(f"{ICE}/namespaces/nowhere"), 404, "NoSuchNamespaceException")
        response = client.post(
            f"{ICE}/namespaces/nowhere/tables", json={"name": "t", "schema": {"type": "struct"}}
        )
        error(response, 404, "NoSuchNamespaceException")


def test_malformed_bodies_are_400_and_change_nothing(server: Server, site: Site) -> None:
    path = f"{ICE}/namespaces/default/tables/events"
    with server.client(site.tokens["ana"]) as client:
        before = metadata(client, "events")["metadata-location"]
        bad = [
            {"updates": [{"action": "no-such-update"}]},
            {"updates": [{"action": "set-current-schema", "schema-id": 99}]},
            {"requirements": [{"type": "assert-ref-snapshot-id"}]},
            {"updates": "not a list"},
        ]
        for body in bad:
            error(client.post(path, json=body), 400, "BadRequestException")
        response = client.post(path, content=b"{not json", headers={"content-type": "text/json"})
        error(response, 400, "BadRequestException")
        error(client.post(f"{ICE}/namespaces", json={"namespace": []}), 400, "BadRequestException")
        tables = f"{ICE}/namespaces/default/tables"
        schema = {"type": "struct", "fields": []}
        for body in (
            {"name": "../up", "schema": schema},
            {"name": "elsewhere", "schema": schema, "location": "/tmp/elsewhere"},
        ):
            error(client.post(tables, json=body), 400, "BadRequestException")
        register = {"name": "etc", "metadata-location": "/etc/metadata/v1.metadata.json"}
        message = error(
            client.post(f"{ICE}/namespaces/default/register", json=register),
            400,
            "BadRequestException",
        )
        assert "outside the table root" in message
        root = Path(client.get("/api/v1/tables").json()[0]["location"]).parent
        register["metadata-location"] = str(root / "gone" / "metadata" / "v1.metadata.json")
        message = error(
            client.post(f"{ICE}/namespaces/default/register", json=register),
            400,
            "BadRequestException",
        )
        assert "no metadata file at" in message
        assert not client.head(f"{tables}/elsewhere").is_success
        assert metadata(client, "events")["metadata-location"] == before


WRITES = [
    ("POST", f"{ICE}/namespaces", {"namespace": ["x"]}),
    ("POST", f"{ICE}/namespaces/default/properties", {"updates": {"a": "b"}}),
    ("DELETE", f"{ICE}/namespaces/default", None),
    ("POST", f"{ICE}/namespaces/default/tables", {"name": "x", "schema": {"type": "struct"}}),
    ("POST", f"{ICE}/namespaces/default/register", {"name": "x", "metadata-location": "/m"}),
    ("POST", f"{ICE}/namespaces/default/tables/events", {"updates": []}),
    ("DELETE", f"{ICE}/namespaces/default/tables/events", None),
    (
        "POST",
        f"{ICE}/tables/rename",
        {
            "source": {"namespace": ["default"], "name": "events"},
            "destination": {"namespace": ["default"], "name": "x"},
        },
    ),
    (
        "POST",
        f"{ICE}/transactions/commit",
        {
            "table-changes": [
                {"identifier": {"namespace": ["default"], "name": "events"}, "updates": []}
            ]
        },
    ),
]
READS = [
    ("GET", f"{ICE}/config"),
    ("GET", f"{ICE}/namespaces"),
    ("GET", f"{ICE}/namespaces/default/tables"),
    ("GET", f"{ICE}/namespaces/default/tables/events"),
]


def test_viewers_read_editors_of_a_table_write_it_and_anonymous_get_401(
    server: Server, site: Site
) -> None:
    viewer = catalog(server, site.tokens["bo"])
    assert viewer.load_table("default.events").scan().to_arrow().num_rows == 3
    with pytest.raises(ForbiddenError):
        viewer.load_table("default.events").append(rows(9))
    viewer.load_table("default.guarded").append(rows(9))  # bo is editor on table:guarded
    assert history(site, "guarded")[0].user == "bo"
    with server.client(site.tokens["ana"]) as client:
        before = metadata(client, "events")["metadata-location"]
    with server.client(site.tokens["bo"]) as bo, server.client() as anonymous:
        for method, path, body in WRITES:
            message = error(bo.request(method, path, json=body), 403, "ForbiddenException")
            assert "user bo may not write" in message
            error(anonymous.request(method, path, json=body), 401, "NotAuthorizedException")
        for method, path in READS:
            error(anonymous.request(method, path), 401, "NotAuthorizedException")
        assert metadata(bo, "events")["metadata-location"] == before
        assert ["x"] not in bo.get(f"{ICE}/namespaces").json()["namespaces"]


def test_rename_drop_keeping_files_register_and_purge(server: Server, site: Site) -> None:
    ice = catalog(server, site.tokens["cy"])
    ice.create_table("default.scratch", schema=ROWS).append(rows(1, 2))
    ice.rename_table("default.scratch", "default.kept")
    assert not ice.table_exists("default.scratch")
    assert [c.user for c in history(site, "kept")] == ["cy"]
    location = ice.load_table("default.kept").metadata_location
    ice.drop_table("default.kept")
    assert Path(location).is_file(), "a drop without purge keeps the files"
    back = ice.register_table("default.kept", location)
    assert back.scan().to_arrow().num_rows == 2
    with site.workspace() as ws:
        ws.tables.pin("kept", 1, by="model:clf@1")
    with server.client(site.tokens["cy"]) as client:
        response = client.delete(f"{ICE}/namespaces/default/tables/kept")
        assert "pinned by model:clf@1" in error(response, 409, "CommitFailedException")
    with site.workspace() as ws:
        ws.tables.unpin("kept", 1, by="model:clf@1")
    ice.create_table("default.purged", schema=ROWS).append(rows(1))
    purged = Path(ice.load_table("default.purged").location())
    ice.purge_table("default.purged")
    assert not purged.exists()


def test_duckdb_reads_and_writes_through_the_catalog(server: Server, site: Site) -> None:
    connection = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    for name in ("httpfs", "avro", "iceberg"):  # from their wheels, offline
        module = importlib.import_module(f"duckdb_extension_{name}")
        [file] = Path(module.__path__[0]).glob(f"extensions/*/{name}.duckdb_extension")
        connection.execute(f"LOAD '{file}'")
    connection.execute(f"CREATE SECRET strata (TYPE iceberg, TOKEN '{site.tokens['cy']}')")
    connection.execute(
        f"ATTACH 'strata' AS lake (TYPE iceberg, ENDPOINT '{server.url}/iceberg', SECRET strata)"
    )
    assert connection.execute("SELECT count(*) FROM lake.default.duck").fetchone() == (3,)
    connection.execute("INSERT INTO lake.default.duck VALUES (4, 'n4')")
    assert connection.execute("SELECT max(id) FROM lake.default.duck").fetchone() == (4,)
    latest = history(site, "duck")[0]
    assert (latest.version, latest.user, latest.rows_written) == (2, "cy", 1)
