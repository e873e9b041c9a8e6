"""The server's ASGI middleware: the request log, and the limit on request bodies."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from strata.server import errors

log = logging.getLogger("strata.server")


class RequestLog:
    """One line per request (method, path, status, milliseconds, user); an error no handler
    took becomes a generic 500 here, its traceback logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})  # the auth dependency's user
        began = time.perf_counter()
        status = 500
        started = False

        async def sending(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = int(message["status"]), True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            log.exception("unexpected error in %s %s", scope["method"], scope["path"])
            status = 500
            if started:
                raise
            await errors.internal_error()(scope, receive, send)
        finally:
            took = (time.perf_counter() - began) * 1000
            user = state.get("user", "-")
            log.info("%s %s %d %.1fms %s", scope["method"], scope["path"], status, took, user)


def too_large(limit: int, what: str = "") -> HTTPException:
    """The 413 of a request body over ``limit`` bytes (``what``: "decompressed ")."""
    return HTTPException(413, f"the {what}request body is over the limit of {limit} bytes")


class BodyLimit:
    """Refuse a request body over ``limit`` bytes with 413: at once when its Content-Length
    says so, else as soon as the bytes read pass the limit. The paths ``larger`` matches
    (uploads) have their own limit."""

    def __init__(
        self, app: ASGIApp, limit: int, larger: Sequence[tuple[re.Pattern[str], int]] = ()
    ) -> None:
        self.app = app
        self.limit = limit
        self.larger = tuple(larger)

    def _limit_of(self, path: str) -> int:
        return next((limit for pattern, limit in self.larger if pattern.match(path)), self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_of(scope["path"])
        if _declared_size(scope) > limit:
            message = str(too_large(limit).detail)  # in the shape of the API the path is in
            await errors.respond(Request(scope), 413, message)(scope, receive, send)
            return
        seen = 0

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise too_large(limit)  # FastAPI passes it on to the 413 handler
            return message

        await self.app(scope, counting, send)


def _declared_size(scope: Scope) -> int:
    for key, value in scope["headers"]:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # the HTTP server refuses a malformed length itself
    return 0
