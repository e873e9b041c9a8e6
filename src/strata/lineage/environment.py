"""What a run ran with: code (git), interpreter, packages, machine, and who ran it."""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import shutil
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from strata.scm import Git, user_identity


def capture(root: Path) -> dict[str, Any]:
    """The environment of a run started in ``root``, as plain JSON-able data."""
    return {
        "git": git_state(root),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "executable": sys.executable,
        "packages": dict(installed_packages()),
        "os": platform.platform(),
        "cpu": {"model": _cpu_model(), "count": os.cpu_count()},
        "gpu": _gpus(),
        "host": socket.gethostname(),
        "user": user_identity(root),
    }


@functools.cache
def installed_packages() -> dict[str, str]:
    """name → version of every distribution the interpreter can import.

    Read once per process: reading every package's metadata costs a few hundred ms, and the
    packages do not change under a running process (callers copy the result)."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(name.lower().replace("_", "-"), dist.version)
    return dict(sorted(found.items()))


def git_state(root: Path) -> dict[str, Any] | None:
    """Repository, commit, branch, dirty flag (``Git.state``'s rule: tracked files only) and
    the hash of the uncommitted diff; None outside a git repository or before the first
    commit."""
    git = Git(root)
    state = git.state()
    if state is None:
        return None
    top = (git.try_output("rev-parse", "--show-toplevel") or b"").decode().strip()
    remote = (git.try_output("config", "--get", "remote.origin.url") or b"").decode().strip()
    diff = (git.try_output("diff", "HEAD", "--binary") or b"") if state.dirty else b""
    return {
        "repository": remote or top,
        "commit": state.commit,
        "branch": state.branch,
        "dirty": state.dirty,
        "diff_hash": hashlib.sha256(diff).hexdigest() if diff else None,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpus() -> list[dict[str, str]]:
    """The NVIDIA GPUs ``nvidia-smi`` reports; empty when there is none or no driver."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    gpus = []
    for line in done.stdout.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3:
            gpus.append({"name": parts[0], "driver": parts[1], "memory": parts[2]})
    return gpus
