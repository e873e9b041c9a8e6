"""Reading a git repository through the ``git`` command: revisions, refs and files at a revision,
the state of the working tree (``Git.state``: the one answer to "which code, and was it dirty" for
runs, the model registry and provenance alike); and who is acting, which every record Strata
writes names.

Paths going in and out are relative to the workspace root, which may sit below the git top level.
"""

from __future__ import annotations

import getpass
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from strata.errors import GitError, RevisionNotFoundError


@dataclass(frozen=True)
class GitState:
    """The code a record comes from: the HEAD commit, its branch (None when detached) and
    whether the working tree differs from it (see ``Git.state`` for the rule)."""

    commit: str
    branch: str | None
    dirty: bool


class Git:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _run(self, args: Sequence[str], *, stdin: bytes | None = None) -> bytes:
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=self.root,
                input=stdin,
                capture_output=True,
                check=False,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            )
        except FileNotFoundError as exc:
            raise GitError("git is not installed", hint="install git, or use --no-git") from exc
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip().splitlines()
            raise GitError(f"git {args[0]} failed: {message[-1] if message else done.returncode}")
        return done.stdout

    def try_output(self, *args: str) -> bytes | None:
        """The output of a read-only git command, or None when git is missing or it fails
        (outside a repository, before the first commit, an unset config key)."""
        try:
            return self._run(args)
        except GitError:
            return None

    def is_repo(self) -> bool:
        try:
            return self._run(["rev-parse", "--is-inside-work-tree"]).strip() == b"true"
        except GitError:
            return False

    def init(self) -> None:
        self._run(["init", "-q"])

    @cached_property
    def prefix(self) -> str:
        """The workspace root's path below the git top level ('' or 'sub/dir/')."""
        return self._run(["rev-parse", "--show-prefix"]).decode().strip()

    def resolve(self, rev: str) -> str:
        """The commit id ``rev`` names; RevisionNotFoundError when it names none."""
        if not rev or rev.startswith("-"):
            raise RevisionNotFoundError(f"git revision {rev!r} does not exist")
        try:
            out = self._run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"])
        except GitError:
            raise RevisionNotFoundError(f"git revision {rev!r} does not exist") from None
        return out.decode().strip()

    def head(self) -> str | None:
        try:
            return self.resolve("HEAD")
        except RevisionNotFoundError:
            return None

    def state(self) -> GitState | None:
        """Commit, branch and dirty flag of the repository ``root`` is in, from one
        ``git status``; None when git is missing, outside a repository or before the first
        commit.

        Dirty means a tracked file anywhere in the repository differs from HEAD, staged or not
        (a modified, deleted, renamed or type-changed file, a modified ``.strata`` pointer, a
        file added to the index): what ``git status --porcelain --untracked-files=no`` lists.
        Untracked and ignored files do not count, as in DVC and MLflow: outputs, caches and
        scratch files are not the code that ran, and ``git add`` makes a new file count."""
        out = self.try_output("status", "--porcelain=v2", "--branch", "--untracked-files=no")
        if out is None:
            return None
        commit, branch, dirty = None, None, False
        for line in out.decode(errors="replace").splitlines():
            if line.startswith("# branch.oid "):
                commit = line.split()[2]
            elif line.startswith("# branch.head "):
                branch = line.split(" ", 2)[2]
            elif line and not line.startswith("#"):
                dirty = True
        if commit is None or commit == "(initial)":
            return None
        return GitState(commit, None if branch == "(detached)" else branch, dirty)

    def refs(self, *, remote_tracking: bool = False) -> list[str]:
        """Every branch and tag, as full ref names; with ``remote_tracking``, also the
        branches of remotes (a clone's view of the others' branches), without their HEADs."""
        namespaces = ["refs/heads", "refs/tags"] + (["refs/remotes"] if remote_tracking else [])
        out = self._run(["for-each-ref", "--format=%(refname)", *namespaces])
        return [line for line in out.decode().splitlines() if line and not line.endswith("/HEAD")]

    def root_commits(self) -> list[str]:
        """The commits without parents reachable from HEAD; none before the first commit."""
        try:
            out = self._run(["rev-list", "--max-parents=0", "HEAD"])
        except GitError:
            return []
        return [line for line in out.decode().splitlines() if line]

    def files_at(self, commit: str, suffix: str) -> list[str]:
        """Paths, relative to the workspace, of the files ending in ``suffix`` at ``commit``."""
        args = ["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit]
        if self.prefix:
            args += ["--", self.prefix]
        names = self._run(args).decode().split("\0")
        return [n[len(self.prefix) :] for n in names if n.endswith(suffix)]

    def read_at(self, commit: str, paths: Sequence[str]) -> dict[str, bytes]:
        """The contents of ``paths`` at ``commit`` (workspace-relative), in one git call."""
        if not paths:
            return {}
        request = "".join(f"{commit}:{self.prefix}{p}\n" for p in paths).encode()
        out = self._run(["cat-file", "--batch"], stdin=request)
        found: dict[str, bytes] = {}
        pos = 0
        for path in paths:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) < 3 or header[1] == b"missing":
                continue
            size = int(header[2])
            found[path] = out[pos : pos + size]
            pos += size + 1
        return found


def user_identity(root: Path, environ: Mapping[str, str] | None = None) -> str:
    """Who acts, for every record (table commits, the model trail, runs): ``STRATA_USER``,
    else git's ``user.name <user.email>`` (``GIT_AUTHOR_*`` first), else the login name."""
    env = os.environ if environ is None else environ
    if env.get("STRATA_USER"):
        return env["STRATA_USER"]
    git = Git(root)

    def config(key: str) -> str | None:
        out = git.try_output("config", key)
        return None if out is None else out.decode(errors="replace").strip() or None

    name = env.get("GIT_AUTHOR_NAME") or config("user.name")
    if name:
        email = env.get("GIT_AUTHOR_EMAIL") or config("user.email")
        return f"{name} <{email}>" if email else name
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
