"""MLflow's own client, in a venv of its own (its dependencies clash with ours), driving a
real ``strata server``: each client script runs a whole scenario and prints one JSON object.

    python = mlflow_python()                      # created once, under a lock (xdist)
    found = run_script(python, "track.py", server.url, user="ana", token=site.tokens["ana"])
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("STRATA_TEST_MLFLOW_VENV", REPO / ".mlflow-venv"))
SPEC = "mlflow>=3,<4"
SCRIPTS = Path(__file__).resolve().parent / "server" / "mlflow_scripts"


def mlflow_python() -> Path:
    """The Python of MLflow's venv, which is made on first use (minutes, once)."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / ".mlflow-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one pytest worker installs; the other waits
        if not stamp.exists():
            pip = [str(python), "-m", "pip", "install", "-q"]
            for step in ([sys.executable, "-m", "venv", "--clear", str(VENV)], [*pip, SPEC]):
                subprocess.run(step, check=True, stdout=subprocess.DEVNULL)
            stamp.touch()
    return python


def run_script(
    python: Path,
    script: str,
    url: str,
    *args: str,
    user: str | None = None,
    token: str | None = None,
    cwd: Path | None = None,
) -> dict[str, Any]:
    """Run ``mlflow_scripts/SCRIPT`` with ``MLFLOW_TRACKING_URI=url`` (and basic auth with
    ``user`` and ``token``); its JSON answer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "STRATA_"))}
    env.update(MLFLOW_TRACKING_URI=url, PYTHONPATH="", GIT_PYTHON_REFRESH="quiet")
    env.update(MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", MLFLOW_ENABLE_ASYNC_LOGGING="false")
    if user is not None and token is not None:
        env.update(MLFLOW_TRACKING_USERNAME=user, MLFLOW_TRACKING_PASSWORD=token)
    done = subprocess.run(
        [str(python), str(SCRIPTS / script), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer
