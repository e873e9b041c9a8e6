"""Errors in the Iceberg REST catalog's shape: ``{"error": {"message", "type", "code"}}``,
``type`` the exception name Iceberg clients map to their own (``NoSuchTableException``,
``CommitFailedException``, ...), ``code`` the HTTP status."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from strata.config import redact
from strata.server.errors import shape_errors

PREFIX = "/iceberg"
# Strata's error classes that have an Iceberg status and exception of their own.
BY_KIND = {
    "TableNotFoundError": (404, "NoSuchTableException"),
    "TableExistsError": (409, "AlreadyExistsException"),
    "TableConflictError": (409, "CommitFailedException"),
    "TablePinnedError": (409, "CommitFailedException"),
}
BY_STATUS = {
    400: "BadRequestException",
    401: "NotAuthorizedException",
    403: "ForbiddenException",
    404: "NoSuchTableException",
    405: "UnsupportedOperationException",
    409: "CommitFailedException",
    413: "BadRequestException",
    503: "ServiceUnavailableException",
}


class IcebergError(Exception):
    """An answer in the Iceberg shape with an Iceberg exception type the route chooses
    (``NoSuchNamespaceException``, ``NamespaceNotEmptyException``, ...)."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message


def iceberg_error(
    status: int, message: str, headers: dict[str, str] | None = None, kind: str | None = None
) -> JSONResponse:
    """One error in Iceberg's shape; ``kind`` is the Strata error class, when there is one."""
    status, name = BY_KIND.get(kind or "", (status, ""))
    name = name or BY_STATUS.get(status, "ServerErrorException")
    body = {"error": {"message": message, "type": name, "code": status}}
    return JSONResponse(body, status_code=status, headers=headers)


async def _iceberg_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IcebergError)
    body = {"error": {"message": redact(exc.message), "type": exc.kind, "code": exc.status}}
    return JSONResponse(body, status_code=exc.status)


def install(app: FastAPI) -> None:
    shape_errors(app, PREFIX, iceberg_error)
    app.add_exception_handler(IcebergError, _iceberg_error)
