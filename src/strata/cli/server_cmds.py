"""``strata server``: the REST API over this workspace, under uvicorn."""

from __future__ import annotations

import ipaddress
import os
import signal
from typing import Annotated

import typer

from strata.cli.output import handle_errors
from strata.cli.source import local_only
from strata.errors import ConfigError, UserInputError
from strata.workspace import Workspace

DRAIN_SECONDS = 20  # on SIGTERM, requests in flight get this long to finish


def register(app: typer.Typer) -> None:
    app.command("server")(handle_errors(local_only(server)))


def server(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8765,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the REST API at /api/v1 (OpenAPI at /openapi.json, docs at /docs).

    Once a user exists every request needs a token; with none, only loopback is served.
    SIGTERM lets requests in flight finish, then exits 0.

    Example: strata server --port 8765
    """
    with Workspace() as ws:
        root = ws.root
        has_users = ws.users.any()
    if not has_users and not _is_loopback(host):
        raise UserInputError(
            f"refusing to serve {host} with no user: anyone could change the registry",
            hint="add one with `strata user add NAME --role admin` (or serve 127.0.0.1)",
        )
    try:
        import httptools  # noqa: F401  (uvicorn's HTTP parser: see below)
        import uvicorn

        from strata.server.app import ROOT_VARIABLE
    except ImportError as exc:
        raise ConfigError(
            f"the server needs {exc.name or 'its dependencies'}",
            hint="pip install 'strata-ml[server]'",
        ) from exc

    os.environ[ROOT_VARIABLE] = str(root)  # what each worker opens
    # uvicorn drains requests on SIGTERM, then raises the signal again once its handler is
    # put back: this one takes it, so a stop asked for is a clean exit (status 0).
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    uvicorn.run(
        "strata.server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # the app logs one line per request, with its user
        log_level="info",
        timeout_graceful_shutdown=DRAIN_SECONDS,
        # httptools, not uvicorn's fallback (h11 on asyncio's loop): with that, in about one
        # run in ten of two workers under keep-alive load, a draining worker went on answering
        # one client's connection for all of DRAIN_SECONDS, then cancelled its request (a
        # 500). Never seen with httptools (and uvloop, picked when installed); twice as fast.
        http="httptools",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
