"""Webhooks: a signed JSON POST per event to a real HTTP server on loopback, retried, and never
in the way of the registry change itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from factories import WorkspaceFactory
from registry_helpers import artifact
from strata import Workspace
from strata.config import set_value
from strata.models.webhooks import SENDER, SIGNATURE_HEADER

SECRET = "s3cret"


@dataclass
class Receiver:
    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail_first: int = 0  # answer 500 to this many requests first
    release: threading.Event = field(default_factory=threading.Event)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body)["event"] for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")
    state.release.set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.release.wait(10)
            if state.fail_first > 0:
                state.fail_first -= 1
                self.send_response(500)
            else:
                state.received.append((dict(self.headers), body))
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def _hooked(make_workspace: WorkspaceFactory, ws: Workspace, **hooks: str) -> Workspace:
    for key, value in hooks.items():
        set_value(ws.root, f"registry.webhooks.{key}", value)
    return make_workspace.open(ws.root)


def test_every_event_is_posted_signed(
    make_workspace: WorkspaceFactory, ws: Workspace, receiver: Receiver
) -> None:
    hooked = _hooked(make_workspace, ws, url=receiver.url, secret=SECRET)
    hooked.models.register("clf", artifact(ws.root, "1"))
    hooked.models.promote("model:clf@1", "production", reason="go")
    assert SENDER.drain(10)
    assert [(e["action"], e["to"]) for e in receiver.bodies()] == [
        ("registered", "v1.0.0"),
        ("stage", "production"),
    ]
    assert receiver.bodies()[1]["reason"] == "go"
    for headers, body in receiver.received:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers[SIGNATURE_HEADER] == expected
        assert headers["Content-Type"] == "application/json"


def test_a_failing_receiver_is_retried(
    make_workspace: WorkspaceFactory, ws: Workspace, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    hooked = _hooked(make_workspace, ws, **{"ci.url": receiver.url, "ci.retries": "3"})
    hooked.models.register("clf", artifact(ws.root, "1"))
    assert SENDER.drain(10)
    assert [e["action"] for e in receiver.bodies()] == ["registered"]
    assert SIGNATURE_HEADER not in receiver.received[0][0], "no secret, no signature"


def test_a_slow_or_dead_receiver_never_blocks_or_fails_the_change(
    make_workspace: WorkspaceFactory, ws: Workspace, receiver: Receiver
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"  # nobody listens there
    receiver.release.clear()  # the live receiver holds every request until released
    hooked = _hooked(
        make_workspace,
        ws,
        **{"dead.url": dead, "dead.retries": "1", "live.url": receiver.url},
    )
    version = hooked.models.register("clf", artifact(ws.root, "1"))
    assert version.number == 1, "registered while the receiver still holds the request"
    assert receiver.received == []
    receiver.release.set()
    assert SENDER.drain(10)
    assert [e["action"] for e in receiver.bodies()] == ["registered"]
