"""``get``, ``import`` and ``update``: tracked paths from another Strata git repository.

The other repository is cloned shallowly, without a checkout, into a temporary folder; its
committed ``.strata/config.toml`` names the remote to download from. Nothing else of it is
trusted: its local config (where secrets live) is never read, its pointer is validated like any
other, and the path asked for must be a safe relative path. Credentials for its remote come
from this user's environment. Only a workspace at the top of the other repository is supported.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from strata.config import read_toml
from strata.core.progress import Progress, no_progress
from strata.errors import (
    GitError,
    NotTrackedError,
    PathOutsideWorkspaceError,
    RemoteError,
    RevisionNotFoundError,
    UserInputError,
)
from strata.files.checkout import checkout
from strata.files.context import FilesContext
from strata.files.discover import Tracked, load_tracked, tracked_in_tree
from strata.files.pointer import POINTER_SUFFIX, Origin
from strata.files.transfer import fetch
from strata.objects.remote import Remote
from strata.objects.state import StateCache
from strata.objects.store import ObjectStore
from strata.paths import unsafe_reason
from strata.scm import Git

CONFIG_AT = ".strata/config.toml"
_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", re.IGNORECASE)


@dataclass(frozen=True)
class Source:
    """Another Strata repository, cloned at the commit a revision names."""

    url: str
    rev: str | None
    commit: str
    git: Git
    local_root: Path | None  # the repository's own folder, when it is a local path

    def remote(self) -> Remote:
        """The remote the repository's committed config uses by default."""
        config = self.git.read_at(self.commit, [CONFIG_AT]).get(CONFIG_AT)
        if config is None:
            raise UserInputError(
                f"{self.url} is not a Strata repository (no {CONFIG_AT} at {self.commit[:10]})",
                hint="name the repository that tracks the data; its workspace must be at the top",
            )
        settings = _remote_settings(self.url, self._flat(config))
        url = settings.pop("url")
        if "://" not in url and not Path(url).is_absolute():
            if self.local_root is None:
                raise RemoteError(
                    f"the remote of {self.url} is the relative folder {url!r}, "
                    "which only exists on its owners' machines",
                    hint="ask them to use a shared remote (s3://, gs://, a mounted folder)",
                )
            url = str(self.local_root / url)
        return Remote(f"{self.url}'s remote", url, settings)

    def _flat(self, text: bytes) -> dict[str, str]:
        with tempfile.TemporaryDirectory(prefix="strata-config-") as folder:
            path = Path(folder) / "config.toml"
            path.write_bytes(text)
            return read_toml(path)

    def tracked(self, path: str) -> Tracked:
        """The pointer of ``path`` in this repository, validated."""
        pointer_file = path + POINTER_SUFFIX
        text = self.git.read_at(self.commit, [pointer_file]).get(pointer_file)
        if text is None:
            raise NotTrackedError(
                f"{path} is not tracked in {self.url} at {self.commit[:10]} (no {pointer_file})",
                hint="check the path with `strata status` in that repository",
            )
        tracked = load_tracked(pointer_file, text, rev=self.commit[:10])
        if tracked.path != path:
            raise NotTrackedError(f"pointer {pointer_file} in {self.url} names another path")
        return tracked


def _remote_settings(url: str, flat: dict[str, str]) -> dict[str, str]:
    remotes: dict[str, dict[str, str]] = {}
    for key, value in flat.items():
        if key.startswith("remote.") and key.count(".") >= 2:
            _, name, option = key.split(".", 2)
            remotes.setdefault(name, {})[option] = value
    chosen = flat.get("core.remote") or (next(iter(remotes)) if len(remotes) == 1 else "")
    if not chosen or "url" not in remotes.get(chosen, {}):
        raise RemoteError(
            f"{url} has no default remote in its committed config",
            hint="its owners must `strata remote add NAME URL --default`, commit and push",
        )
    return dict(remotes[chosen])


def check_path(path: str) -> str:
    """A repository-relative path given by the user, normalised; refuses unsafe ones."""
    cleaned = path.strip().rstrip("/")
    while cleaned.startswith("./"):
        cleaned = cleaned[2:]
    if cleaned.endswith(POINTER_SUFFIX):
        cleaned = cleaned[: -len(POINTER_SUFFIX)]
    reason = unsafe_reason(cleaned)
    if reason:
        raise UserInputError(f"bad path {path!r}: {reason}", hint="name it relative to its repo")
    return cleaned


def public_url(url: str) -> str:
    """``url`` without a user name or token, for recording in a committed pointer."""
    return _USERINFO.sub(r"\1", url)


def _clone(url: str, rev: str | None, into: Path) -> None:
    """A shallow clone without checkout; a full one when ``rev`` is not a branch or tag."""

    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        shutil.rmtree(into, ignore_errors=True)
        return subprocess.run(
            ["git", "clone", "-q", "--no-checkout", *args, "--", url, str(into)],
            capture_output=True,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )

    done = run("--depth", "1", *(["--branch", rev] if rev else []))
    if done.returncode != 0 and rev:
        done = run("--filter=blob:none")
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        raise GitError(
            f"cannot clone {url}: {lines[-1] if lines else 'git failed'}",
            hint="check the repository URL or path, and your access to it",
        )


@contextmanager
def open_source(url: str, rev: str | None) -> Iterator[Source]:
    """Clone the repository at ``url`` (a local path or a git URL) for the duration."""
    if not url or any(ord(c) < 0x20 for c in url):
        raise UserInputError(f"bad repository URL {url!r}")
    local = Path(url).expanduser()
    is_path = "://" not in url and not re.match(r"^[\w.-]+@[\w.-]+:", url)
    if is_path and not local.is_dir():
        raise UserInputError(
            f"repository {url} not found", hint="give a git URL or the path of a git repository"
        )
    clone_url = local.resolve().as_uri() if is_path else url
    with tempfile.TemporaryDirectory(prefix="strata-source-") as folder:
        into = Path(folder) / "repo"
        _clone(clone_url, rev, into)
        git = Git(into)
        try:
            commit = git.resolve(rev or "HEAD")
        except RevisionNotFoundError:
            raise RevisionNotFoundError(
                f"revision {rev or 'HEAD'!r} not found in {url}",
                hint="name a branch, tag or commit of that repository",
            ) from None
        yield Source(url, rev, commit, git, local.resolve() if is_path else None)


def _download(ctx: FilesContext, remote: Remote, tracked: Tracked, progress: Progress) -> None:
    result = fetch(ctx, remote, [tracked], progress=progress)
    if result.failed:
        first = result.failed[0]
        raise RemoteError(
            f"cannot download {tracked.path} from {remote.name}: {first.reason}",
            hint="ask that repository's owners to `strata push` it",
        )


# -- get --------------------------------------------------------------------------------------
def get(
    url: str,
    path: str,
    *,
    rev: str | None = None,
    out: Path | None = None,
    progress: Progress = no_progress,
) -> Path:
    """Download ``path`` from the repository at ``url`` to ``out`` (default: its name, here);
    no workspace needed. Returns where it went."""
    path = check_path(path)
    target = (out or Path(posixpath.basename(path))).absolute()
    if target.exists() or target.is_symlink():
        raise UserInputError(f"{target} exists already", hint="choose another -o, or remove it")
    if not target.parent.is_dir():
        raise UserInputError(f"folder {target.parent} does not exist", hint="create it first")
    with open_source(url, rev) as source:
        remote = source.remote()
        tracked = source.tracked(path)
        staging = target.parent / f".strata-get-{uuid.uuid4().hex[:12]}"
        try:
            ctx = _scratch_context(staging)
            name = tracked.pointer.path
            local = Tracked(name + POINTER_SUFFIX, tracked.pointer)
            _download(ctx, remote, local, progress)
            checkout(ctx, [local], progress=progress)
            ctx.state.close()
            os.replace(staging / "tree" / name, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _scratch_context(staging: Path) -> FilesContext:
    """A throwaway cache and tree beside the destination, so the result moves in with a rename."""
    (staging / "tree").mkdir(parents=True)
    store = ObjectStore(staging / "cache", ("reflink", "copy"))
    return FilesContext(staging / "tree", store, StateCache(staging / "state.db"), None)


# -- import and update ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ImportResult:
    path: str
    repo: str
    source_path: str
    rev: str | None
    commit: str
    previous_commit: str | None = None
    changed: bool = True

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "repo": self.repo,
            "source_path": self.source_path,
            "rev": self.rev,
            "commit": self.commit,
            "previous_commit": self.previous_commit,
            "changed": self.changed,
        }


def import_path(
    ctx: FilesContext,
    url: str,
    path: str,
    relout: str,
    *,
    rev: str | None = None,
    progress: Progress = no_progress,
) -> ImportResult:
    """Bring ``path`` of the repository at ``url`` to the workspace path ``relout``, with a
    pointer that records where it came from."""
    path = check_path(path)
    if relout == "." or unsafe_reason(relout):
        raise PathOutsideWorkspaceError(f"cannot import to {relout!r}", hint="name a new path")
    for taken in (relout, relout + POINTER_SUFFIX):
        if ctx.abspath(taken).exists() or ctx.abspath(taken).is_symlink():
            raise UserInputError(
                f"{taken} exists already",
                hint="choose another -o, or `strata update` it if it is an import",
            )
    with open_source(url, rev) as source:
        return _bring(ctx, source, path, relout, None, progress=progress, force=False)


def _bring(
    ctx: FilesContext,
    source: Source,
    path: str,
    relout: str,
    previous: str | None,
    *,
    progress: Progress,
    force: bool,
) -> ImportResult:
    remote = source.remote()
    found = source.tracked(path)
    origin = Origin(public_url(source.url), path, source.rev, source.commit)
    pointer = replace(found.pointer, path=posixpath.basename(relout), origin=origin)
    target = Tracked(relout + POINTER_SUFFIX, pointer)
    _download(ctx, remote, target, progress)
    checkout(ctx, [target], force=force, write_pointers=True, progress=progress)
    return ImportResult(relout, origin.repo, path, source.rev, source.commit, previous)


def update(
    ctx: FilesContext,
    relpaths: Sequence[str] = (),
    *,
    rev: str | None = None,
    force: bool = False,
    progress: Progress = no_progress,
) -> list[ImportResult]:
    """Re-resolve each import's revision (or ``rev``) and bring the newer version, if any."""
    imports = [t for t in tracked_in_tree(ctx, relpaths) if t.pointer.origin is not None]
    if relpaths and len(imports) != len(relpaths):
        plain = sorted(set(relpaths) - {t.path for t in imports})
        raise UserInputError(
            f"{plain[0] if plain else relpaths[0]} was not imported, so there is nothing to update",
            hint="`strata import REPO PATH` brings data with a recorded origin",
        )
    results = []
    for t in imports:
        origin = t.pointer.origin
        assert origin is not None
        wanted = rev or origin.rev
        with open_source(origin.repo, wanted) as source:
            if source.commit == origin.commit:
                results.append(
                    ImportResult(
                        t.path,
                        origin.repo,
                        origin.path,
                        wanted,
                        origin.commit,
                        origin.commit,
                        False,
                    )
                )
                continue
            results.append(
                _bring(
                    ctx, source, origin.path, t.path, origin.commit, progress=progress, force=force
                )
            )
    return results
