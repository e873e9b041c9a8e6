"""Strata's error tree → HTTP statuses and one JSON shape, ``{"error": {"code", "message"}}``.

A Strata error also names its class (``"type": "ProtectedAliasError"``), so a client (the
command line with ``STRATA_SERVER``) raises the same error, with the same exit code.

Bad input is a 400 (malformed JSON and failed validation too, never a 500), an unknown thing
a 404, a refused change a 409, a database that cannot be reached right now a 503 (with
Retry-After); anything unexpected is a 500 whose response says nothing more, the traceback
going to the server's log only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from strata.config import redact
from strata.errors import (
    AuthenticationError,
    ExperimentNotFoundError,
    GuardError,
    GuardEventNotFoundError,
    LineageError,
    LoggedModelNotFoundError,
    MetadataUnavailableError,
    ModelNotFoundError,
    ModelVersionNotFoundError,
    NotTrackedError,
    PermissionDeniedError,
    PipelineError,
    PromotionRefusedError,
    ProtectedAliasError,
    RegistryError,
    RevisionNotFoundError,
    RunNotFoundError,
    StrataError,
    TableConflictError,
    TableError,
    TableNotFoundError,
    TableVersionNotFoundError,
    UserInputError,
)

log = logging.getLogger("strata.server")

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    500: "internal",
    503: "unavailable",
}
# First match wins: the specific errors before the families they belong to.
STATUSES: tuple[tuple[type[StrataError], int], ...] = (
    (UserInputError, 400),
    (ModelNotFoundError, 404),
    (ModelVersionNotFoundError, 404),
    (TableNotFoundError, 404),
    (TableVersionNotFoundError, 404),
    (RunNotFoundError, 404),
    (ExperimentNotFoundError, 404),
    (LoggedModelNotFoundError, 404),
    (NotTrackedError, 404),
    (RevisionNotFoundError, 404),
    (GuardEventNotFoundError, 404),
    (ProtectedAliasError, 409),
    (TableConflictError, 409),
    (TableError, 400),  # the data does not fit the table (schema), or its format cannot
    (PromotionRefusedError, 409),
    (RegistryError, 409),  # the registry's state refuses the change
    (LineageError, 400),
    (GuardError, 400),
    (PipelineError, 400),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (MetadataUnavailableError, 503),  # the database is down or restarting: retry later
)
RETRY_AFTER_SECONDS = 5  # what a 503 tells a client to wait before it tries again

ErrorShape = Callable[[int, str, "dict[str, str] | None", "str | None"], Response]
"""Renders one error for a family of paths: (status, message, headers, Strata error class)."""


def shape_errors(app: FastAPI, prefix: str, shape: ErrorShape) -> None:
    """Answer errors under ``prefix`` in another API's shape (MLflow's, Iceberg's), not ours."""
    app.state.error_shapes = [*getattr(app.state, "error_shapes", []), (prefix, shape)]


def status_of(exc: StrataError) -> int:
    return next((status for kind, status in STATUSES if isinstance(exc, kind)), 500)


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, kind: str | None = None
) -> JSONResponse:
    """Strata's own shape: ``{"error": {"code", "message", "type"}}``."""
    error = {"code": CODES.get(status, "error"), "message": redact(message)}
    if kind is not None:
        error["type"] = kind
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def internal_error() -> JSONResponse:
    """What a client sees of an unexpected error: that it happened, nothing more."""
    return error_response(500, "internal server error; the server's log has the details")


def respond(
    request: Request,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    kind: str | None = None,
) -> Response:
    """The error in the shape of the API (or the pages) the request's path belongs to."""
    path = request.url.path
    shapes: list[tuple[str, ErrorShape]] = getattr(request.app.state, "error_shapes", [])
    for prefix, shape in shapes:
        if path.startswith(prefix):
            return shape(status, redact(message), headers, kind)
    return error_response(status, message, headers, kind)


async def _strata_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StrataError)
    status = status_of(exc)
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc.one_line())
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return respond(request, status, exc.one_line(), headers, kind=type(exc).__name__)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ())[1:])
        if error.get("type") == "json_invalid":
            problems.append(f"malformed JSON: {error.get('ctx', {}).get('error', 'cannot parse')}")
        else:
            problems.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return respond(request, 400, "bad request: " + "; ".join(problems))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return respond(request, exc.status_code, message, dict(exc.headers or {}))


def install(app: FastAPI) -> None:
    """Register the handlers: every error a route raises leaves as the one JSON shape."""
    app.add_exception_handler(StrataError, _strata_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
