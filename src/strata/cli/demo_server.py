"""The server chapter of ``strata demo``: users and tokens, the REST API on a loopback port, a
viewer's promotion refused, a maintainer's accepted, ``@production`` resolved over HTTP; then
the APIs other tools speak: an OpenLineage event as Spark would post it, read back the way
Marquez answers, and an Iceberg table created and written through the REST catalog.

It runs after the rollback chapter, on its ``delay-classifier`` model, and leaves production
where it found it: the maintainer's promotion is a canary, rolled back over HTTP too. The
server is uvicorn over ``create_app`` in a background thread, stopped before the chapter ends.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.markup import escape

from strata.workspace import Workspace

MODEL = "delay-classifier"
START_SECONDS = 20  # the server answers well within this; a hung start fails the demo
REQUEST_SECONDS = 20
API = "/api/v1"


def chapter(ws: Workspace, say: Callable[[str], None]) -> None:
    production = ws.models.resolve(f"model:{MODEL}@production")
    canary = ws.models.resolve(f"model:{MODEL}@{production.number + 1}")
    tokens: dict[str, str] = {}
    for name, role in (("ana", "maintainer"), ("bo", "viewer")):
        ws.users.add(name, role, by="strata demo")
        tokens[name] = ws.users.create_token(name)[1]
        say(f"strata user add {name} --role {role}; strata token create {name}: shown once.")

    with _serving(ws.root) as url:
        say(f"strata server --port {url.rsplit(':', 1)[1]}: the REST API at {url}{API}.")
        stage = f"{API}/models/{MODEL}/versions/{canary.number}/stage"
        body = {"stage": "production", "reason": "canary: callers now send the hour"}
        status, answer = _call(url, "POST", stage, tokens["bo"], body)
        say(f"bo (viewer): POST {stage} → {status}: {escape(_message(answer))}.")
        status, answer = _call(url, "POST", stage, tokens["ana"], body)
        actors = sorted({str(e["actor"]) for e in answer.get("events", [])})
        landed = f"{answer.get('ref')} in production, recorded as {', '.join(actors)}"
        say(f"ana (maintainer): the same POST → {status}: {landed}.")
        resolve = f"{API}/refs/model:{MODEL}@production"
        status, answer = _call(url, "GET", resolve, tokens["bo"])
        say(f"bo: GET {resolve} → {status}: {answer.get('ref')} ({answer.get('semver')}).")
        back = f"{API}/models/{MODEL}/rollback"
        status, answer = _call(url, "POST", back, tokens["ana"], {"reason": "canary over"})
        say(f"ana: POST {back} → {status}: @production is {answer.get('ref')} again.")
        _other_tools(ws, url, tokens["ana"], say)
    say("The server stopped; every change above is in `strata model history`, by user.")


def _other_tools(ws: Workspace, url: str, token: str, say: Callable[[str], None]) -> None:
    """Spark's OpenLineage event for a job that wrote the deliveries table, Marquez's view of
    it, and pyiceberg creating and appending to an Iceberg table through the catalog."""
    import uuid
    from datetime import UTC, datetime

    import pyarrow as pa
    from pyiceberg.catalog.rest import RestCatalog

    location = ws.tables.info("deliveries").location
    event = {
        "eventType": "COMPLETE",
        "eventTime": datetime.now(UTC).isoformat(),
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/spark",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "spark", "name": "nightly_deliveries"},
        "inputs": [{"namespace": "s3://raw", "name": "orders"}],
        "outputs": [{"namespace": "file", "name": location}],
    }
    status, answer = _call(url, "POST", f"{API}/lineage", token, event)
    say(
        f"Spark's OpenLineage event, POST {API}/lineage → {status}: job spark/nightly_deliveries"
        f" read dataset:s3://raw/orders and wrote {', '.join(answer.get('outputs', []))}."
    )
    status, answer = _call(url, "GET", f"{API}/namespaces", token)
    names = sorted(n["name"] for n in answer.get("namespaces", []))
    say(f"What Marquez's UI asks, GET {API}/namespaces → {status}: {', '.join(names)}.")
    lake = RestCatalog("strata", uri=f"{url}/iceberg", token=token)
    trips = pa.table({"trip": [1, 2], "minutes": [14.0, 31.5]})
    table = lake.create_table("default.trips", schema=trips.schema)
    table.append(trips)
    [latest] = ws.tables.open("trips").history(1)
    say(
        f"pyiceberg through {url}/iceberg: created default.trips and appended 2 rows → "
        f"table:trips@{latest.version}, {latest.operation} by {latest.user}."
    )


@contextmanager
def _serving(root: Path) -> Iterator[str]:
    """``create_app(root)`` under uvicorn on a free loopback port, in a background thread;
    yields its base URL once it answers, and stops it on the way out."""
    import uvicorn

    from strata.server.app import create_app

    app = create_app(root)
    requests_log = logging.getLogger("strata.server")
    level = requests_log.level
    requests_log.setLevel(logging.WARNING)  # the chapter says what happens; no request log
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="strata-demo-server", daemon=True
    )
    thread.start()
    try:
        _wait_for(server, thread)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(START_SECONDS)
        listener.close()
        requests_log.setLevel(level)


def _wait_for(server: Any, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the demo's server did not start")
        time.sleep(0.01)


def _call(
    url: str, method: str, path: str, token: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    """One request with ``Authorization: Bearer TOKEN``: its status and its JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_SECONDS) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, json.loads(refused.read())


def _message(answer: dict[str, Any]) -> str:
    return str(answer.get("error", {}).get("message", answer))
