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


def _git(root: Path, *args: str) -> bytes | None:
    return Git(root).try_output(*args)


def git_state(root: Path) -> dict[str, Any] | None:
    """Repository, commit, branch, dirty flag and the hash of the uncommitted diff; None
    outside a git repository or before the first commit."""
    top = _git(root, "rev-parse", "--show-toplevel")
    commit = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if top is None or commit is None:
        return None
    branch = (_git(root, "rev-parse", "--abbrev-ref", "HEAD") or b"").decode().strip()
    remote = (_git(root, "config", "--get", "remote.origin.url") or b"").decode().strip()
    diff = _git(root, "diff", "HEAD", "--binary") or b""
    return {
        "repository": remote or top.decode().strip(),
        "commit": commit.decode().strip(),
        "branch": None if branch in ("", "HEAD") else branch,
        "dirty": bool(diff),
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
