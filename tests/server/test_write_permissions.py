"""Every write the API offers, found in its own OpenAPI description (so a write added later
is tried too): refused to the viewer bo (403) and to a caller without a token (401), with
nothing changed; every read but health refused without a token."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from server_support import Server, Site, make_site, served

WRITES = ("post", "put", "patch", "delete")
OPEN = {"/api/v1/health"}
# A value for each path parameter, by the collection the path is under.
THINGS = {"tables": "deliveries", "releases": "r1", "runs": "run:x"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = make_site(tmp_path_factory.mktemp("permissions") / "ws", None)
    with site.workspace() as ws:
        ws.models.promote("model:clf@1", "production", reason="ship")
        ws.models.promote("model:clf@2", "production", reason="ship")
        ws.recovery.releases.create("r1", tables=["table:deliveries@0"])
    (site.root / "guard.yaml").write_text(
        "metrics:\n  source: file\n  path: m.json\nmodels:\n  clf:\n"
        "    conditions: [error_rate > 0.05]\n"
    )
    (site.root / "m.json").write_text('{"clf": {"error_rate": 1}}')
    return site


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    yield from served(site)


@pytest.fixture(scope="module")
def spec(server: Server) -> dict[str, Any]:
    with server.client() as client:
        found: dict[str, Any] = client.get("/openapi.json").json()
    return found


def _operations(spec: dict[str, Any], methods: tuple[str, ...]) -> list[tuple[str, str, Any]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in methods and path.startswith("/api/v1/") and path not in OPEN
    ]


def _url(path: str) -> str:
    parts = path.split("/")
    collection = parts[3] if len(parts) > 3 else ""
    for i, part in enumerate(parts):
        if part.startswith("{"):
            name = part.strip("{}").removesuffix(":path")
            value = {"v": "1", "alias": "best", "ref": "model:clf", "a": "r1", "b": "r1"}.get(
                name, THINGS.get(collection, "clf")
            )
            parts[i] = value
    return "/".join(parts)


def _sample(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """The least value ``schema`` accepts: what lets a request past validation."""
    if schema.get("examples"):
        return schema["examples"][0]
    if "$ref" in schema:
        return _sample(spec["components"]["schemas"][schema["$ref"].split("/")[-1]], spec)
    if "anyOf" in schema:
        return _sample(schema["anyOf"][0], spec)
    kind = schema.get("type")
    if kind == "object":
        required = schema.get("required", [])
        return {
            k: _sample(v, spec) for k, v in schema.get("properties", {}).items() if k in required
        }
    return {"string": "production", "integer": 1, "number": 1.0, "boolean": False, "array": []}.get(
        kind or "string"
    )


def _request(operation: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The body of a valid request to ``operation``, in the content type it takes."""
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return {"json": _sample(content["application/json"]["schema"], spec)}
    if "multipart/form-data" in content:
        return {"files": {"artifact": ("m.bin", b"model bytes")}}
    if content:
        sink = io.BytesIO()
        pq.write_table(pa.table({"id": [9], "delay": [9.0]}), sink)
        kind = "application/vnd.apache.parquet"
        assert kind in content, f"a body of {list(content)} has no sample here"
        return {"content": sink.getvalue(), "headers": {"Content-Type": kind}}
    return {}


def _state(server: Server, site: Site) -> dict[str, Any]:
    """What any write would change, as the maintainer ana reads it."""
    with server.client(site.tokens["ana"]) as client:
        gets = ["/audit?limit=10000", "/models", "/tables", "/runs", "/guard/events",
                "/releases", "/tables/deliveries/history"]  # fmt: skip
        found = {path: client.get(f"/api/v1{path}").json() for path in gets}
        for model in ("clf", "race", "other"):
            found[model] = client.get(f"/api/v1/models/{model}/versions").json()
    return found


def test_the_description_names_the_writes(spec: dict[str, Any]) -> None:
    paths = {path for _, path, _ in _operations(spec, WRITES)}
    assert {"/api/v1/models/{name}/versions", "/api/v1/tables/{name}/append",
            "/api/v1/runs", "/api/v1/guard/check"} <= paths  # fmt: skip


def test_a_viewer_and_an_anonymous_caller_can_write_nothing(
    server: Server, site: Site, spec: dict[str, Any]
) -> None:
    before = _state(server, site)
    tried = []
    for method, path, operation in _operations(spec, WRITES):
        url, body = _url(path), _request(operation, spec)
        with server.client(site.tokens["bo"]) as client:
            answer = client.request(method.upper(), url, **body)
        assert answer.status_code == 403, f"{method} {url} as a viewer: {answer.text}"
        assert answer.json()["error"]["message"].startswith("user bo may not")
        with server.client() as client:
            anonymous = client.request(method.upper(), url, **body)
        assert anonymous.status_code == 401, f"{method} {url} without a token: {anonymous.text}"
        tried.append(f"{method} {path}")
    assert len(tried) >= 12
    assert _state(server, site) == before
    assert list((site.root / ".strata" / "tmp" / "uploads").glob("*")) == []


def test_every_read_but_health_needs_a_token(server: Server, spec: dict[str, Any]) -> None:
    with server.client() as client:
        for _, path, _ in _operations(spec, ("get",)):
            answer = client.get(_url(path))
            assert answer.status_code == 401, f"GET {path}: {answer.text}"
