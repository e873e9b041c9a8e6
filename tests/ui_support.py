"""The web UI's test helpers: a model whose description is HTML, and logging in over HTTP
as a browser would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from server_support import Server

HOSTILE = "<script>alert('owned')</script>"


def browser_like(server: Server) -> httpx.Client:
    """A client that keeps cookies like a browser talking to a loopback server: it sends the
    UI's ``Secure`` cookies over plain HTTP too (a loopback origin counts as secure to
    browsers; httpx would hold them back)."""
    client = server.client(follow_redirects=False)

    def with_cookies(request: httpx.Request) -> None:
        if client.cookies:
            request.headers["cookie"] = "; ".join(f"{k}={v}" for k, v in client.cookies.items())

    client.event_hooks["request"] = [with_cookies]
    return client


@contextmanager
def log_in(server: Server, token: str) -> Iterator[httpx.Client]:
    """A client holding a session, logged in through the log-in form as a browser would."""
    with browser_like(server) as client:
        yield _logged_in(client, token)


def _logged_in(client: httpx.Client, token: str) -> httpx.Client:
    client.get("/login")  # hands out the CSRF cookie
    csrf = client.cookies["strata_csrf"]
    answer = client.post(
        "/session", data={"token": token, "next": "/models"}, headers={"x-csrf-token": csrf}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/models", answer.text
    return client
