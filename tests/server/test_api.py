"""The REST API, on a real ``strata server`` over SQLite and over PostgreSQL: the acceptance
paths, authentication, permissions, bad input and concurrent promotions.

One server per backend for the module; each test changes its own model or leaves the state as
it found it (clf: the acceptance paths; race: concurrent promotions; other: grants)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from server_support import SERVER_IDENTITY, Server, Site, make_site, served

API = "/api/v1"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Site:
    db_url = None
    if request.param == "postgresql":
        db_url = request.getfixturevalue("postgres_cluster").create_database()
    return make_site(tmp_path_factory.mktemp(request.param) / "ws", db_url)


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    yield from served(site)


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    message: str = body["error"]["message"]
    assert "Traceback" not in message and "\n" not in message
    return message


def test_health_needs_no_token_and_the_api_is_described(server: Server) -> None:
    with server.client() as client:
        assert client.get(f"{API}/health").json()["status"] == "ok"
        paths = client.get("/openapi.json").json()["paths"]
        assert f"{API}/models/{{name}}/versions/{{v}}/stage" in paths
        assert client.get("/docs").status_code == 200


def test_the_acceptance_paths(server: Server, site: Site) -> None:
    with server.client(site.tokens["ana"]) as client:
        names = {m["name"] for m in client.get(f"{API}/models").json()}
        assert names == {"clf", "race", "other"}
        versions = client.get(f"{API}/models/clf/versions").json()
        assert [v["version"] for v in versions] == [1, 2, 3]

        promoted = client.post(
            f"{API}/models/clf/versions/3/stage",
            json={"stage": "production", "reason": "best offline AUC"},
        )
        assert promoted.status_code == 200, promoted.text
        assert promoted.json()["events"][0]["to"] == "production"
        found = client.get(f"{API}/refs/model:clf@production").json()
        assert (found["ref"], found["version"]) == ("model:clf@3", 3)
        assert client.get(f"{API}/models/clf/versions/production").json()["version"] == 3
        table = client.get(f"{API}/refs/table:deliveries@latest").json()
        assert (table["ref"], table["version"]) == ("table:deliveries@0", 0)

        put = client.put(f"{API}/models/clf/aliases/champion", json={"version": 2})
        assert put.status_code == 200, put.text
        assert client.get(f"{API}/refs/model:clf@champion").json()["version"] == 2
        assert client.delete(f"{API}/models/clf/aliases/champion").status_code == 200
        assert client.get(f"{API}/refs/model:clf@champion").status_code == 404

        assert [t["name"] for t in client.get(f"{API}/tables").json()] == ["deliveries"]
        history = client.get(f"{API}/tables/deliveries/history").json()
        assert history[0]["version"] == 0 and history[0]["pinned"] is True
        provenance = client.get(f"{API}/provenance/model:clf@production").json()
        assert "table:deliveries@0" in str(provenance)
        impact = client.get(f"{API}/impact/table:deliveries@0").json()
        assert "model:clf@3" in str(impact)
        compared = client.get(f"{API}/compare", params={"a": "model:clf@1", "b": "model:clf@3"})
        assert compared.status_code == 200, compared.text
        up = client.get(f"{API}/lineage/model:clf@3", params={"direction": "up", "depth": 1})
        assert "table:deliveries@0" in {n["ref"] for n in up.json()["nodes"]}
        down = client.get(f"{API}/lineage/table:deliveries@0", params={"direction": "down"})
        assert "model:clf@1" in {n["ref"] for n in down.json()["nodes"]}

        trail = client.get(f"{API}/audit", params={"model": "clf", "limit": 3}).json()
        assert trail[0]["action"] == "alias" and trail[0]["to"] is None  # newest first
        assert len(trail) == 3
        assert client.get(f"{API}/models/clf/history").json()[-1] == trail[0]

        rolled = client.post(f"{API}/models/clf/rollback", json={"to": 2, "reason": "latency"})
        assert rolled.status_code == 200, rolled.text
        assert client.get(f"{API}/refs/model:clf@production").json()["version"] == 2


def test_the_trail_names_the_token_user_and_the_client_address(server: Server, site: Site) -> None:
    with server.client(site.tokens["ana"]) as client:
        client.post(f"{API}/models/other/versions/1/stage", json={"stage": "staging"})
        event = client.get(f"{API}/audit", params={"model": "other"}).json()[0]
    assert event["actor"] == "ana" != SERVER_IDENTITY
    assert event["detail"]["client"] == "127.0.0.1"
    with site.workspace() as ws:  # the same trail `strata model history` shows
        assert ws.models.history("other")[-1].actor == "ana"
    assert f"POST {API}/models/other/versions/1/stage 200" in server.log_text()
    assert "ana" in server.log_text().split(f"POST {API}/models/other/versions/1/stage 200")[1]


def test_no_wrong_expired_or_revoked_token_is_refused(server: Server, site: Site) -> None:
    with server.client() as client:
        assert "strata token create" in _error(client.get(f"{API}/models"), 401, "unauthorized")
        for token in ("strata_nope_nope", site.tokens["ana"] + "x", site.expired, site.revoked):
            answer = client.get(f"{API}/models", headers={"Authorization": f"Bearer {token}"})
            _error(answer, 401, "unauthorized")
        garbled = client.get(f"{API}/models", headers={"Authorization": "Basic %%%"})
        _error(garbled, 401, "unauthorized")


def test_basic_auth_takes_the_user_name_and_a_token_as_password(server: Server, site: Site) -> None:
    with server.client(auth=("ana", site.tokens["ana"])) as client:
        assert client.get(f"{API}/models").status_code == 200
    with server.client(auth=("bo", site.tokens["ana"])) as client:  # not bo's token
        _error(client.get(f"{API}/models"), 401, "unauthorized")
    header = base64.b64encode(f"ana:{site.expired}".encode()).decode()
    with server.client() as client:
        answer = client.get(f"{API}/models", headers={"Authorization": f"Basic {header}"})
        _error(answer, 401, "unauthorized")


WRITES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/models/clf/versions/1/stage", {"stage": "staging"}),
    ("POST", "/models/clf/versions/1/stage", {"stage": "production", "reason": "r"}),
    ("POST", "/models/clf/versions/2/stage", {"stage": "archived"}),
    ("PUT", "/models/clf/aliases/best", {"version": 1}),
    ("PUT", "/models/clf/aliases/best", {"version": 1, "protected": True}),
    ("DELETE", "/models/clf/aliases/best", None),
    ("DELETE", "/models/clf/aliases/best?force=true&reason=r", None),
    ("POST", "/models/clf/rollback", {"reason": "r"}),
    ("POST", "/models/clf/rollback", None),
]


def test_a_viewer_can_write_nothing(server: Server, site: Site) -> None:
    with server.client(site.tokens["bo"]) as client:
        before = client.get(f"{API}/audit").json()
        for method, path, body in WRITES:
            answer = client.request(method, API + path, json=body)
            message = _error(answer, 403, "forbidden")
            assert message.startswith("user bo may not") and "model:clf" in message
        assert client.get(f"{API}/audit").json() == before
        assert client.get(f"{API}/models/clf/versions/1").status_code == 200  # reads work


def test_a_grant_on_one_model_does_not_reach_another(server: Server, site: Site) -> None:
    with server.client(site.tokens["cy"]) as client:
        refused = client.post(
            f"{API}/models/other/versions/1/stage", json={"stage": "production", "reason": "r"}
        )
        assert "user cy may not promote model:other" in _error(refused, 403, "forbidden")
        allowed = client.post(
            f"{API}/models/clf/versions/1/stage", json={"stage": "production", "reason": "r"}
        )
        assert allowed.status_code == 200, allowed.text
        back = client.post(f"{API}/models/other/versions/1/stage", json={"stage": "none"})
        assert back.status_code == 200, back.text  # an editor's write, outside production


def test_bad_input_is_a_400_an_unknown_thing_a_404_a_large_body_a_413(
    server: Server, site: Site
) -> None:
    stage = f"{API}/models/clf/versions/1/stage"
    with server.client(site.tokens["ana"]) as client:
        headers = {"Content-Type": "application/json"}
        assert "malformed JSON" in _error(
            client.post(stage, content=b'{"stage": ', headers=headers), 400, "bad_request"
        )
        _error(client.post(stage, json={"stage": "prod"}), 400, "bad_request")
        _error(client.post(stage, json={"stage": "staging", "what": 1}), 400, "bad_request")
        _error(client.post(stage, json=["staging"]), 400, "bad_request")
        _error(client.get(f"{API}/refs/no-kind"), 400, "bad_request")
        _error(client.get(f"{API}/lineage/model:clf@1?depth=0"), 400, "bad_request")
        _error(client.get(f"{API}/audit?since=yesterday"), 400, "bad_request")
        for ref in ("model:nope@1", "model:clf@99", "table:nope@1", "table:deliveries@9"):
            _error(client.get(f"{API}/refs/{ref}"), 404, "not_found")
        _error(client.get(f"{API}/models/nope/versions"), 404, "not_found")
        _error(client.get(f"{API}/nothing/here"), 404, "not_found")
        big = b'{"stage": "staging", "reason": "' + b"x" * (17 * 2**20) + b'"}'
        _error(client.post(stage, content=big, headers=headers), 413, "too_large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: refused once read past the limit
            yield b'{"stage": "staging", "reason": "'
            for _ in range(17):
                yield b"x" * 2**20
            yield b'"}'

        _error(client.post(stage, content=chunks(), headers=headers), 413, "too_large")
        assert client.get(f"{API}/health").status_code == 200


def test_a_protected_alias_moves_only_with_force(server: Server, site: Site) -> None:
    alias = f"{API}/models/clf/aliases/serving"
    with server.client(site.tokens["ana"]) as client:
        assert client.put(alias, json={"version": 1, "protected": True}).status_code == 200
        assert "protected" in _error(client.put(alias, json={"version": 2}), 409, "conflict")
        _error(client.delete(alias), 409, "conflict")
        moved = client.put(alias, json={"version": 2, "force": True, "reason": "v2 is better"})
        assert moved.status_code == 200, moved.text
        assert client.get(f"{API}/refs/model:clf@serving").json()["version"] == 2
    with server.client(site.tokens["cy"]) as client:  # clf's maintainer by grant
        assert client.delete(f"{alias}?force=true&reason=done").status_code == 200


def test_ten_concurrent_promotions_leave_one_production_version(server: Server, site: Site) -> None:
    def promote(number: int) -> int:
        with server.client(site.tokens["ana"]) as client:
            answer = client.post(
                f"{API}/models/race/versions/{number}/stage",
                json={"stage": "production", "reason": f"try {number}"},
            )
            return answer.status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(promote, range(1, 11)))
    assert statuses == [200] * 10
    with server.client(site.tokens["bo"]) as client:
        held = client.get(f"{API}/models/race/versions", params={"stage": "production"}).json()
        trail = client.get(f"{API}/models/race/history").json()
    assert len(held) == 1
    into = [e["version"] for e in trail if e["action"] == "stage" and e["to"] == "production"]
    assert sorted(into) == list(range(1, 11))  # each promotion landed, one after another
    assert into[-1] == held[0]["version"]  # the last to commit holds it


def test_a_path_outside_the_api_is_json_too(server: Server) -> None:
    with server.client() as client:
        _error(client.put(f"{API}/health"), 405, "method_not_allowed")
