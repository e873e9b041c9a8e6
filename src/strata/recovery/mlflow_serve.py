"""An MLflow database (``sqlite:///…``, ``postgresql://…``) read through MLflow's own server:
``mlflow server`` over it on a free loopback port for the length of a migration, so one reader
(the REST API) serves both. The ``mlflow`` command comes from its own environment (the
package does not install beside Strata), found on PATH or named."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from strata.errors import ServerUnavailableError, UserInputError

DATABASES = ("sqlite:", "postgresql:", "postgresql+", "mysql:", "mysql+", "mssql:")
START_SECONDS = 180.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def served(uri: str, *, mlflow: str | None = None) -> Iterator[str]:
    """The tracking server URL for ``uri``: itself for ``http(s)://``; for a database, a
    ``mlflow server`` started over it here and stopped afterwards."""
    if not uri.startswith(DATABASES):
        yield uri
        return
    command = mlflow or shutil.which("mlflow")
    if not command or not Path(command).exists():
        raise UserInputError(
            f"reading {uri.split(':', 1)[0]} database {uri!r} needs MLflow's `mlflow` command",
            hint="install mlflow in an environment of its own and pass --mlflow PATH/bin/mlflow",
        )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    args = [command, "server", "--backend-store-uri", uri, "--host", "127.0.0.1",
            "--port", str(port), "--workers", "1"]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_SECONDS
            while not _answers(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    last = (log.read().decode(errors="replace").strip().splitlines() or [""])[-1]
                    raise ServerUnavailableError(
                        f"`mlflow server` over {uri} did not start: {last[:300]}"
                    )
                time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
