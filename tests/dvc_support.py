"""Real DVC repositories for the migration tests, made by the real ``dvc`` (3.x) run as a
subprocess from its own venv, ``.venv-dvc/`` at the project root: ``make unit`` builds it;
a test run without it builds it once (under a file lock, so parallel workers wait)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from factories import GIT_IDENTITY, commit_all, git

PROJECT = Path(__file__).resolve().parent.parent
DVC_VENV = PROJECT / ".venv-dvc"
DVC_REQUIREMENT = "dvc>=3.50,<4"  # the Makefile's DVC_VERSION


def dvc_executable() -> Path:
    stamp = DVC_VENV / ".installed"
    if not stamp.exists():
        DVC_VENV.parent.mkdir(parents=True, exist_ok=True)
        with open(PROJECT / ".venv-dvc.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not stamp.exists():
                subprocess.run([sys.executable, "-m", "venv", str(DVC_VENV)], check=True)
                pip = [str(DVC_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
                subprocess.run([*pip, DVC_REQUIREMENT], check=True)
                stamp.touch()
    return DVC_VENV / "bin" / "dvc"


def dvc_env() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("STRATA_", "PYTHON"))}
    return {
        **keep,
        **GIT_IDENTITY,
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(PROJECT / ".venv-dvc" / "site-cache"),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def dvc(root: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(dvc_executable()), *args],
        cwd=root,
        env={**dvc_env(), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"dvc {' '.join(args)} failed: {done.stdout}{done.stderr}"
    return done.stdout


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


TRAIN = """\
import json, pathlib
lr = float(pathlib.Path("params.yaml").read_text().split("lr:")[1].split()[0])
rows = pathlib.Path("data/raw.csv").read_text().splitlines()
pathlib.Path("model.bin").write_text(f"model lr={lr} rows={len(rows)}\\n")
pathlib.Path("metrics.json").write_text(json.dumps({"rows": len(rows), "lr": lr}))
"""

PIPELINE = """\
stages:
  train:
    cmd: python3 train.py
    deps: [data/raw.csv, train.py]
    params: [train.lr]
    outs: [model.bin]
    metrics:
      - metrics.json:
          cache: false
"""


def make_dvc_repo(root: Path, remote: Path) -> list[str]:
    """A repository of three commits — data added; data changed and a pipeline run; a
    folder changed — pushed to the folder remote ``remote``. Returns the commit ids."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    dvc(root, "init", "-q")
    dvc(root, "config", "core.analytics", "false")
    dvc(root, "remote", "add", "-d", "storage", str(remote))
    write(root / "data" / "raw.csv", "a,b\n1,2\n")
    for i in range(3):
        write(root / "data" / "images" / f"img{i}.txt", f"image {i}\n")
    dvc(root, "add", "-q", "data/raw.csv", "data/images")
    commits = [commit_all(root, "data")]
    write(root / "data" / "raw.csv", "a,b\n1,2\n3,4\n")
    write(root / "train.py", TRAIN)
    write(root / "params.yaml", "train:\n  lr: 0.1\n")
    write(root / "dvc.yaml", PIPELINE)
    dvc(root, "add", "-q", "data/raw.csv")
    dvc(root, "repro", "-q")
    commits.append(commit_all(root, "pipeline"))
    write(root / "data" / "images" / "img3.txt", "image 3\n")
    dvc(root, "add", "-q", "data/images")
    dvc(root, "push", "-q")
    commits.append(commit_all(root, "more images"))
    return commits
