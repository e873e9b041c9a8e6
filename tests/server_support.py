"""A real ``strata server`` for the tests in tests/server: a workspace with users, tokens,
models and a table, the server started as a subprocess on a free loopback port, and clients.

    site = make_site(tmp / "ws", db_url=None)             # SQLite; or a PostgreSQL URL
    server = start_server(site.root, site.env)
    server.client(site.tokens["ana"]).get("/api/v1/models")
    assert server.stop() == 0                              # SIGTERM; drains, exits 0
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

from factories import GIT_IDENTITY, STRATA, free_port
from strata import Workspace
from strata.config import set_value

SERVER_IDENTITY = "the-server-process"  # STRATA_USER of the server: never a request's actor


@dataclass
class Site:
    """A workspace to serve, the environment to serve it with, and its users' tokens."""

    root: Path
    env: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)
    expired: str = ""
    revoked: str = ""

    def workspace(self) -> Workspace:
        return Workspace(self.root, environ=self.env)


def environment(base: Path, db_url: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STRATA_") and k not in ("GIT_DIR", "GIT_WORK_TREE")
    }
    env.update(GIT_IDENTITY, STRATA_USER=SERVER_IDENTITY, NO_COLOR="1")
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    env["GIT_CEILING_DIRECTORIES"] = str(base)
    if db_url is not None:
        env["STRATA_METADATA_URL"] = db_url
    return env


def make_site(root: Path, db_url: str | None, *, users: bool = True) -> Site:
    """Models clf (3 versions, trained on table:deliveries), race (10) and other (1); with
    ``users``: ana maintainer, bo viewer, cy editor and maintainer on model:clf only."""
    root.mkdir(parents=True)
    Workspace.init(root, git=False).close()
    if db_url is not None:
        set_value(root, "metadata.url", db_url, scope="local")
    site = Site(root, environment(root.parent, db_url))
    with site.workspace() as ws:
        pq.write_table(pa.table({"id": [1, 2, 3], "delay": [1.0, 2.0, 3.0]}), root / "d.parquet")
        ws.tables.create("deliveries", root / "d.parquet")
        for name, count in (("clf", 3), ("race", 10), ("other", 1)):
            for number in range(1, count + 1):
                artifact = root / f"{name}-{number}.bin"
                artifact.write_bytes(f"{name} {number}".encode())
                data = ["table:deliveries@0"] if name == "clf" else []
                ws.models.register(name, artifact, data=data)
        if users:
            for name, role in (("ana", "maintainer"), ("bo", "viewer"), ("cy", "editor")):
                ws.users.add(name, role, by="tests")
                site.tokens[name] = ws.users.create_token(name)[1]
            ws.users.grant("cy", "model:clf", "maintainer", by="tests")
            site.expired = ws.users.create_token("ana", expires=timedelta(seconds=-1))[1]
            token, site.revoked = ws.users.create_token("ana")
            ws.users.revoke("ana", token.id)
    return site


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def client(self, token: str | None = None, **options: object) -> httpx.Client:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        options.setdefault("timeout", 60)
        return httpx.Client(base_url=self.url, headers=headers, **options)  # type: ignore[arg-type]

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, and the exit status once it has drained."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def start_server(root: Path, env: dict[str, str], *args: str) -> Server:
    """``strata server --port FREE`` in ``root``; returns once /api/v1/health answers."""
    port = free_port()
    log = root.parent / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(STRATA), "server", "--port", str(port), *args],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"strata server exited {process.returncode}:\n{server.log_text()}")
        try:
            if httpx.get(f"{server.url}/api/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"strata server did not answer in time:\n{server.log_text()}")


def served(site: Site, *args: str) -> Iterator[Server]:
    """A module's server fixture: ``yield from served(site)`` serves ``site`` while the tests
    run, then stops it with SIGTERM; a drain that does not exit 0 fails the module."""
    running = start_server(site.root, site.env, *args)
    yield running
    assert running.stop() == 0, running.log_text()
