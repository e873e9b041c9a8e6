"""From which code a version comes: the git commit and whether the working tree had
uncommitted changes. (Who acts is ``strata.scm.user_identity``.)"""

from __future__ import annotations

from pathlib import Path

from strata.scm import Git


def _git_output(root: Path, *args: str) -> str | None:
    out = Git(root).try_output(*args)
    return None if out is None else out.decode(errors="replace").strip()


def code_version(git: Git | None) -> tuple[str | None, bool | None]:
    """The HEAD commit and whether tracked files differ from it; (None, None) without git."""
    if git is None:
        return None, None
    commit = git.head()
    if commit is None:
        return None, None
    status = _git_output(git.root, "status", "--porcelain", "--untracked-files=no")
    return commit, None if status is None else bool(status)
