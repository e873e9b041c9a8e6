"""PostgreSQL stopped and started again under a running ``strata server``: meanwhile every
request that needs the database fails fast with 503 and the JSON error, the CLI with its one
line; afterwards requests succeed again, and a promotion tried during the outage never landed.

The cluster is this module's own: stopping the session's shared one would fail other tests.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from factories import STRATA
from pg_cluster import PostgresCluster
from server_support import make_site, start_server

API = "/api/v1"
BOUND_SECONDS = 15  # a request answers within this while the database is down: no hang

pytestmark = pytest.mark.postgres


@pytest.fixture
def cluster(own_postgres_cluster: PostgresCluster) -> PostgresCluster:
    return own_postgres_cluster


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


def test_promotions_in_flight_when_postgres_stops_answer_503_or_land_whole(
    cluster: PostgresCluster, tmp_path: Path
) -> None:
    """Six clients promote versions of race in a loop; PostgreSQL is stopped among them (its
    sessions ended, transactions cut mid-way), then started again. Every answer is a 200 or a
    503, never a 500; afterwards exactly one version holds production and every version's
    stage is what its last audit event says (no move without its event, nor the reverse)."""
    site = make_site(tmp_path / "ws", cluster.create_database())
    server = start_server(site.root, site.env)
    answers: list[tuple[str, int]] = []  # (phase, status)
    phase = ["before"]
    stop = threading.Event()

    def promote(first: int) -> None:
        with server.client(site.tokens["ana"], timeout=BOUND_SECONDS) as client:
            number = first
            while not stop.is_set():
                path = f"{API}/models/race/versions/{number % 10 + 1}/stage"
                try:
                    answer = client.post(path, json={"stage": "production", "reason": "load"})
                except httpx.TransportError as exc:
                    raise AssertionError(f"no answer from the server: {exc!r}") from exc
                answers.append((phase[0], answer.status_code))
                number += 1

    threads = [threading.Thread(target=promote, args=(n,), daemon=True) for n in range(6)]
    try:
        for thread in threads:
            thread.start()
        _wait_for(lambda: answers.count(("before", 200)) >= 10)
        phase[0] = "down"
        cluster.halt()  # promotions in flight now lose their connection mid-transaction
        _wait_for(lambda: answers.count(("down", 503)) >= 6)  # the outage was seen
        phase[0] = "restarting"
        cluster.resume()
        phase[0] = "after"
        _wait_for(lambda: answers.count(("after", 200)) >= 10)
    finally:
        stop.set()
        for thread in threads:
            thread.join(BOUND_SECONDS * 2)
        code = server.stop()
    log = server.log_text()
    assert code == 0 and "Traceback" not in log and " 500 " not in log, log[-3000:]
    assert {status for _, status in answers} <= {200, 503}, sorted(set(answers))
    with site.workspace() as ws:
        holders = [v.number for v in ws.models.versions("race", stage="production")]
        stages = {v.number: v.stage for v in ws.models.versions("race")}
        last_moves = {
            e.version: e.to_value for e in ws.models.history("race") if e.action == "stage"
        }
    assert len(holders) == 1, holders
    assert {n: last_moves.get(n, "none") for n in stages} == stages


def _wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)
