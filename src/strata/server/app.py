"""The ASGI application: ``create_app(root)`` serves one workspace, opened once per process.

    uvicorn.run(create_app(Path(".")), port=8765)
    STRATA_SERVER_ROOT=/srv/project uvicorn --factory strata.server.app:app_from_environment

Every request leaves one line on stderr (method, path, status, milliseconds, user); an
unexpected error leaves its traceback there too, and the client a generic 500.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from strata import __version__
from strata.config import Config, find_root
from strata.scm import user_identity
from strata.server import (
    catalog_routes,
    errors,
    guard_routes,
    iceberg,
    lineage_routes,
    marquez_routes,
    mlflow,
    model_routes,
    openlineage_routes,
    recovery_routes,
    run_routes,
    table_routes,
    ui,
    upload_routes,
)
from strata.server.auth import ServerState
from strata.server.middleware import BodyLimit, RequestLog
from strata.workspace import Workspace

ROOT_VARIABLE = "STRATA_SERVER_ROOT"  # the workspace of `strata server --workers N`
MAX_BODY = 16 * 1024 * 1024  # bytes; a larger request body is refused with 413 (uploads:
# the config's server.max_upload)
log = logging.getLogger("strata.server")


def create_app(root: Path) -> FastAPI:
    """The REST API over the workspace at ``root`` (opened at start-up, closed at shutdown)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ws = Workspace(root)
        try:
            _open_parts(ws)
            app.state.strata = ServerState(ws, user_identity(ws.root))
            yield
        finally:
            ws.close()

    _log_to_stderr()
    app = FastAPI(
        title="Strata",
        version=__version__,
        description="Versions of files, tables and models, their lineage, and rollback.",
        lifespan=lifespan,
    )
    errors.install(app)
    max_upload = Config.load(find_root(root)).get_int("server.max_upload")
    uploads = [
        (re.compile(pattern), max_upload)
        for pattern in (upload_routes.UPLOAD_PATHS, mlflow.UPLOAD_PATHS)
    ]
    app.add_middleware(BodyLimit, limit=MAX_BODY, larger=uploads)
    app.state.max_body = MAX_BODY  # what a decompressed body may grow to
    app.add_middleware(RequestLog)  # outermost: it sees every response, the 413s too
    app.get("/api/v1/health", tags=["server"])(health)
    for routes in (
        catalog_routes, table_routes, model_routes, lineage_routes, run_routes, recovery_routes,
        guard_routes, upload_routes, openlineage_routes, marquez_routes,
    ):  # fmt: skip
        app.include_router(routes.router, prefix="/api/v1")
    iceberg.install(app)
    mlflow.install(app)
    ui.install(app, root)
    return app


def app_from_environment() -> FastAPI:
    """``create_app`` for the workspace ``STRATA_SERVER_ROOT`` names (uvicorn's workers)."""
    return create_app(Path(os.environ.get(ROOT_VARIABLE, ".")))


def health() -> dict[str, str]:
    """Whether the server is up; needs no token."""
    return {"status": "ok", "version": __version__}


def _open_parts(ws: Workspace) -> None:
    """Open the parts requests share now, once, rather than racing to open them on first
    use from several threads."""
    parts = ("db", "files", "tables", "models", "lineage", "users", "recovery", "guard")
    for part in (*parts, "tracking"):
        getattr(ws, part)


def _log_to_stderr() -> None:
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s strata.server[%(process)d] %(message)s")
        )
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
