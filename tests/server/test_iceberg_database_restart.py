"""PostgreSQL stopped and started again under the Iceberg REST catalog: a commit tried while
it is down is a 503 in the spec's shape and is not there afterwards; the client's retry once
it is back lands, one version, naming the user; pyiceberg's own queries on the database
translate to MetadataUnavailableError (503) while it is down.

The cluster is this module's own: stopping the session's shared one would fail other tests.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog.rest import RestCatalog
from pyiceberg.exceptions import ServiceUnavailableError

from pg_cluster import PostgresCluster
from server_support import make_site, start_server
from strata.errors import MetadataUnavailableError
from strata.tables.iceberg_catalog import identifier, sql_catalog, translating

pytestmark = pytest.mark.postgres


@pytest.fixture
def cluster(own_postgres_cluster: PostgresCluster) -> PostgresCluster:
    return own_postgres_cluster


def test_a_commit_while_postgres_is_down_is_503_and_absent_and_its_retry_lands(
    cluster: PostgresCluster, tmp_path: Path
) -> None:
    db_url = cluster.create_database()
    site = make_site(tmp_path / "ws", db_url)
    with site.workspace() as ws:
        ws.tables.create("events", pa.table({"id": [1, 2, 3]}), format="iceberg")
    own = sql_catalog(db_url)  # pyiceberg's catalog in this process, opened while it is up
    server = start_server(site.root, site.env)
    more = pa.table({"id": pa.array([4], pa.int64())})
    try:
        lake = RestCatalog("strata", uri=f"{server.url}/iceberg", token=site.tokens["cy"])
        table = lake.load_table("default.events")
        cluster.halt()
        with pytest.raises(ServiceUnavailableError, match="ServiceUnavailableException"):
            table.append(more)
        unavailable = pytest.raises(MetadataUnavailableError, match="cannot be reached")
        with unavailable, translating("open", "events"):  # pyiceberg's query, translated
            own.load_table(identifier("events"))
        cluster.resume()
        assert lake.load_table("default.events").scan().to_arrow().num_rows == 3
        lake.load_table("default.events").append(more)
        assert lake.load_table("default.events").scan().to_arrow().num_rows == 4
    finally:
        code = server.stop()
    log = server.log_text()
    assert code == 0, log
    assert "Traceback" not in log and " 500 " not in log, log
    with site.workspace() as ws:
        commits = ws.tables.open("events").history()
    assert [(c.version, c.user) for c in commits][:1] == [(2, "cy")] and len(commits) == 2
