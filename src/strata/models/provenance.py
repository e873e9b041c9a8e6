"""From which code a version comes: the git commit and whether the working tree had
uncommitted changes, as ``strata.scm.Git.state`` decides it for runs too. (Who acts is
``strata.scm.user_identity``.)"""

from __future__ import annotations

from strata.scm import Git


def code_version(git: Git | None) -> tuple[str | None, bool | None]:
    """The HEAD commit and whether the working tree is dirty; (None, None) without git or
    before the first commit."""
    state = None if git is None else git.state()
    return (None, None) if state is None else (state.commit, state.dirty)
