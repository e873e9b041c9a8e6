"""PostgreSQL stopped and started again under a running ``strata server``: meanwhile every
request that needs the database fails fast with 503 and the JSON error, the CLI with its one
line; afterwards requests succeed again, and a promotion tried during the outage never landed.

The cluster is this module's own: stopping the session's shared one would fail other tests.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from factories import STRATA
from pg_cluster import ClusterUnavailable, PostgresCluster, start_cluster
from server_support import make_site, start_server

API = "/api/v1"
BOUND_SECONDS = 15  # a request answers within this while the database is down: no hang

pytestmark = pytest.mark.postgres


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    try:
        own = start_cluster()
    except ClusterUnavailable as exc:
        if os.environ.get("STRATA_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"STRATA_REQUIRE_POSTGRES=1 but {exc}", pytrace=False)
        pytest.skip(str(exc))
    yield own
    own.stop()


def _unavailable(response: httpx.Response) -> str:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit()
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == "unavailable"
    message: str = body["error"]["message"]
    assert "Traceback" not in message and "\n" not in message
    return message


def test_requests_fail_with_503_while_postgres_is_down_then_succeed(
    cluster: PostgresCluster, tmp_path: Path
) -> None:
    site = make_site(tmp_path / "ws", cluster.create_database())
    server = start_server(site.root, site.env)
    promote = f"{API}/models/clf/versions/{{}}/stage"
    production = f"{API}/refs/model:clf@production"
    try:
        with server.client(site.tokens["ana"], timeout=BOUND_SECONDS) as client:
            answer = client.post(promote.format(1), json={"stage": "production"})
            assert answer.status_code == 200, answer.text

            cluster.halt()
            began = time.monotonic()
            _unavailable(client.get(f"{API}/models"))
            _unavailable(client.get(production))
            message = _unavailable(
                client.post(promote.format(2), json={"stage": "production", "reason": "x"})
            )
            assert "postgresql" in message and "server is running" in message
            assert time.monotonic() - began < BOUND_SECONDS
            assert client.get(f"{API}/health").status_code == 200  # the server itself is up
            cli = subprocess.run(
                [str(STRATA), "model", "versions", "clf"],
                cwd=site.root, env=site.env, capture_output=True, text=True,
                timeout=60, check=False,
            )  # fmt: skip
            assert cli.returncode == 12, cli.stderr
            assert len(cli.stderr.strip().splitlines()) == 1, cli.stderr

            cluster.resume()
            answer = client.get(production)  # the first request after the restart
            assert answer.status_code == 200, answer.text
            assert answer.json()["version"] == 1, "the promotion tried while down landed"
            answer = client.post(promote.format(2), json={"stage": "production"})
            assert answer.status_code == 200, answer.text
            assert client.get(production).json()["version"] == 2
    finally:
        code = server.stop()
    log = server.log_text()
    assert code == 0, log
    assert "Traceback" not in log and " 500 " not in log, log
    with site.workspace() as ws:
        moves = [(e.version, e.to_value) for e in ws.models.history("clf") if e.action == "stage"]
        holders = [v.ref for v in ws.models.versions("clf", stage="production")]
    assert moves == [(1, "production"), (2, "production"), (1, "archived")], moves
    assert holders == ["model:clf@2"]
