"""The fast path of ``GET /api/v1/refs/model:X@production`` on a two-worker server: tokens
are remembered for a few seconds per worker, resolutions never are.

Each request here opens its own connection, so the two workers share the requests."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from factories import STRATA
from server_support import Server, Site, make_site, served
from strata.server.token_cache import TTL_SECONDS

API = "/api/v1"
FRESH_CONNECTIONS = 12  # per check: enough that both workers answer some


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return make_site(tmp_path_factory.mktemp("hot") / "ws", None)


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    yield from served(site, "--workers", "2")


def _statuses(server: Server, path: str, token: str) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    return [
        httpx.get(server.url + path, headers=headers, timeout=60).status_code
        for _ in range(FRESH_CONNECTIONS)
    ]


def _workers_that_answered(server: Server, path: str) -> int:
    """How many server processes logged a request for ``path``."""
    pattern = rf"strata\.server\[(\d+)\] GET {re.escape(path)} "
    return len(set(re.findall(pattern, server.log_text())))


def _production(server: Server, token: str) -> set[int]:
    """The version every one of FRESH_CONNECTIONS requests resolves @production to."""
    headers = {"Authorization": f"Bearer {token}"}
    found = set()
    for _ in range(FRESH_CONNECTIONS):
        answer = httpx.get(f"{server.url}{API}/refs/model:race@production", headers=headers)
        assert answer.status_code == 200, answer.text
        found.add(answer.json()["version"])
    return found


def test_a_promotion_by_the_cli_or_a_worker_is_seen_by_the_next_request(
    server: Server, site: Site
) -> None:
    viewer = site.tokens["bo"]
    cli = subprocess.run(
        [str(STRATA), "model", "promote", "model:race@4", "--stage", "production"],
        cwd=site.root, env=site.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert _production(server, viewer) == {4}
    for number in (7, 2, 9):  # through whichever worker takes the connection
        with server.client(site.tokens["ana"]) as client:
            moved = client.post(
                f"{API}/models/race/versions/{number}/stage", json={"stage": "production"}
            )
        assert moved.status_code == 200, moved.text
        assert _production(server, viewer) == {number}
    assert _workers_that_answered(server, f"{API}/refs/model:race@production") == 2


def test_a_revoked_token_is_refused_on_every_worker_once_the_cache_time_is_over(
    server: Server, site: Site
) -> None:
    path = f"{API}/refs/model:clf@1"
    with site.workspace() as ws:
        token, secret = ws.users.create_token("bo")
    assert set(_statuses(server, path, secret)) == {200}  # both workers remember it now
    with site.workspace() as ws:
        ws.users.revoke("bo", token.id)
    time.sleep(TTL_SECONDS + 0.2)
    assert set(_statuses(server, path, secret)) == {401}
    assert _workers_that_answered(server, path) == 2

    with site.workspace() as ws:
        fresh = ws.users.create_token("bo")[1]
    assert set(_statuses(server, path, fresh)) == {200}, "a new token must work at once"
