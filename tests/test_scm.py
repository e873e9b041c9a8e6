"""Who acts: one answer for every record Strata writes."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from factories import isolate_env
from strata.scm import user_identity


def test_user_identity_is_strata_user_else_git_author_else_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_env(monkeypatch, tmp_path)  # no git identity in any git config
    git_author = {"GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": "ana@example.com"}
    assert user_identity(tmp_path, {"STRATA_USER": "bot", **git_author}) == "bot"
    assert user_identity(tmp_path, git_author) == "Ana <ana@example.com>"
    assert user_identity(tmp_path, {"GIT_AUTHOR_NAME": "Ana"}) == "Ana"
    assert user_identity(tmp_path, {}) == getpass.getuser()
