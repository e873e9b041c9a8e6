"""What the chapters of ``strata demo`` share: git commands under a fixed demo identity."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Strata Demo",
    "GIT_AUTHOR_EMAIL": "demo@strata.invalid",
    "GIT_COMMITTER_NAME": "Strata Demo",
    "GIT_COMMITTER_EMAIL": "demo@strata.invalid",
}


def git(root: Path, *args: str) -> None:
    """Run git in ``root`` as the demo's author; a failure raises CalledProcessError."""
    subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, env={**os.environ, **_GIT_ENV}
    )
