"""Who acts and from which code: ``STRATA_USER`` or the git identity; the git commit and
whether the working tree had uncommitted changes."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from pathlib import Path

from strata.scm import Git


def _git_output(root: Path, *args: str) -> str | None:
    out = Git(root).try_output(*args)
    return None if out is None else out.decode(errors="replace").strip()


def actor(root: Path, environ: Mapping[str, str] | None = None) -> str:
    """``STRATA_USER``, else git's ``user.name <user.email>``, else the login name."""
    env = os.environ if environ is None else environ
    if env.get("STRATA_USER"):
        return env["STRATA_USER"]
    name = env.get("GIT_AUTHOR_NAME") or _git_output(root, "config", "user.name")
    email = env.get("GIT_AUTHOR_EMAIL") or _git_output(root, "config", "user.email")
    if name:
        return f"{name} <{email}>" if email else name
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def code_version(git: Git | None) -> tuple[str | None, bool | None]:
    """The HEAD commit and whether tracked files differ from it; (None, None) without git."""
    if git is None:
        return None, None
    commit = git.head()
    if commit is None:
        return None, None
    status = _git_output(git.root, "status", "--porcelain", "--untracked-files=no")
    return commit, None if status is None else bool(status)
