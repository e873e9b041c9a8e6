"""A workspace's remotes: naming and configuring them, moving objects, ``gc --cloud``, and
data imported from other repositories. ``Workspace`` delegates its remote methods here.

    from strata.remotes import add_remote
    add_remote(ws, "storage", "s3://bucket/strata", default=True)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from strata.config import Config, remove_section, set_value, unset_value
from strata.errors import UserInputError
from strata.files import CheckoutResult, Tracked, VerifyResult, tracked_at, tracked_in_tree

if TYPE_CHECKING:
    from strata.files.gc import CloudGcResult
    from strata.files.imports import ImportResult
    from strata.files.transfer import RemoteState
    from strata.objects.remote import Remote, TransferResult
    from strata.workspace import StrPath, Workspace

Progress = Callable[[int], None]

_REMOTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def _no_progress(_: int) -> None:
    return None


# -- configuring ------------------------------------------------------------------------------
def add_remote(ws: Workspace, name: str, url: str, *, default: bool = False) -> list[str]:
    """Record a remote; a URL with a password goes to the local config file (the keys moved
    there are returned)."""
    if not _REMOTE_NAME.fullmatch(name):
        raise UserInputError(f"bad remote name {name!r}", hint="use letters, digits, '-' and '_'")
    if name in remotes(ws):
        raise UserInputError(
            f"remote {name!r} exists already", hint="use `strata remote modify` to change it"
        )
    moved = set_value(ws.root, f"remote.{name}.url", url)
    if default:
        moved += set_value(ws.root, "core.remote", name)
    ws.config = Config.load(ws.root)
    return sorted(set(moved))


def remotes(ws: Workspace) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for key, value in ws.config.values.items():
        if key.startswith("remote.") and key.count(".") >= 2:
            _, name, option = key.split(".", 2)
            found.setdefault(name, {})[option] = value
    return dict(sorted(found.items()))


def remove_remote(ws: Workspace, name: str) -> None:
    _settings(ws, name)
    for scope in ("project", "local"):
        remove_section(ws.root, f"remote.{name}", scope=scope)
    if ws.config.get("core.remote") == name:
        unset_value(ws.root, "core.remote")
    ws.config = Config.load(ws.root)


def modify_remote(
    ws: Workspace, name: str, key: str, value: str, *, local: bool = False
) -> list[str]:
    """Change one setting; credentials go to the local config file whatever ``local`` says
    (the keys moved there are returned)."""
    _settings(ws, name)
    moved = set_value(ws.root, f"remote.{name}.{key}", value, scope="local" if local else "project")
    ws.config = Config.load(ws.root)
    return moved


def _settings(ws: Workspace, name: str) -> dict[str, str]:
    found = remotes(ws)
    if name not in found:
        known = ", ".join(found) or "none yet"
        raise UserInputError(
            f"no remote named {name!r} (known: {known})",
            hint="add one with `strata remote add NAME URL`",
        )
    return found[name]


def open_remote(ws: Workspace, name: str | None = None) -> Remote:
    from strata.objects.remote import Remote

    chosen = name or ws.config.get("core.remote")
    if not chosen:
        names = list(remotes(ws))
        if len(names) != 1:
            raise UserInputError(
                "no default remote",
                hint="name one with -r, or `strata remote add NAME URL --default`",
            )
        chosen = names[0]
    settings = _settings(ws, chosen)
    if "url" not in settings:
        raise UserInputError(f"remote {chosen!r} has no url", hint="set remote.NAME.url")
    options = {k: v for k, v in settings.items() if k != "url"}
    url = settings["url"]
    if "://" not in url and not Path(url).is_absolute():
        url = str(ws.root / url)  # a relative folder is relative to the workspace
    return Remote(chosen, url, options)


# -- moving objects ---------------------------------------------------------------------------
def _tracked(ws: Workspace, paths: Sequence[StrPath], rev: str | None) -> list[Tracked]:
    relpaths = ws.relpaths(paths)
    if rev is None:
        return tracked_in_tree(ws.files, relpaths) + ws._model_artifacts(paths)
    return tracked_at(ws.files, ws._commit(rev), relpaths) + ws._model_artifacts(paths)


def push(
    ws: Workspace,
    paths: Sequence[StrPath] = (),
    *,
    remote: str | None = None,
    rev: str | None = None,
    jobs: int = 4,
    progress: Progress = _no_progress,
) -> TransferResult:
    from strata.files.transfer import push

    target = open_remote(ws, remote)
    return push(ws.files, target, _tracked(ws, paths, rev), jobs=jobs, progress=progress)


def fetch(
    ws: Workspace,
    paths: Sequence[StrPath] = (),
    *,
    remote: str | None = None,
    rev: str | None = None,
    jobs: int = 4,
    progress: Progress = _no_progress,
) -> TransferResult:
    from strata.files.transfer import fetch

    source = open_remote(ws, remote)
    return fetch(ws.files, source, _tracked(ws, paths, rev), jobs=jobs, progress=progress)


def pull(
    ws: Workspace,
    paths: Sequence[StrPath] = (),
    *,
    remote: str | None = None,
    jobs: int = 4,
    force: bool = False,
    progress: Progress = _no_progress,
) -> tuple[TransferResult, list[CheckoutResult]]:
    result = fetch(ws, paths, remote=remote, jobs=jobs, progress=progress)
    if result.failed:
        return result, []
    return result, ws.checkout(paths, force=force)


def remote_status(
    ws: Workspace, paths: Sequence[StrPath] = (), *, remote: str | None = None
) -> list[RemoteState]:
    from strata.files.transfer import remote_status

    return remote_status(ws.files, open_remote(ws, remote), _tracked(ws, paths, None))


def verify_remote(
    ws: Workspace, *, remote: str | None = None, jobs: int = 4, progress: Progress = _no_progress
) -> VerifyResult:
    """Re-hash every object on the remote; each bad one is named by the path that uses it."""
    from strata.files.transfer import verify_remote
    from strata.files.verify import NOT_NEEDED, Problem, owners

    source = open_remote(ws, remote)
    checked, failed = verify_remote(source, jobs=jobs, progress=progress)
    needed = owners(ws.files)
    problems = (Problem(f.name, needed.get(f.name, NOT_NEEDED), f.kind) for f in failed)
    return VerifyResult(checked, tuple(problems))


def gc_cloud(
    ws: Workspace,
    *,
    remote: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    also_keep: Sequence[str] = (),
    jobs: int = 4,
    progress: Progress = _no_progress,
) -> CloudGcResult:
    from strata.files.gc import collect_remote

    target = open_remote(ws, remote)
    return collect_remote(
        ws.files,
        target,
        dry_run=dry_run,
        force=force,
        also_keep=also_keep,
        jobs=jobs,
        progress=progress,
    )


# -- other repositories -----------------------------------------------------------------------
def import_path(
    ws: Workspace,
    url: str,
    path: str,
    *,
    out: StrPath | None = None,
    rev: str | None = None,
    progress: Progress = _no_progress,
) -> ImportResult:
    from strata.files.imports import check_path, import_path

    relout = ws.files.relpath(out if out is not None else Path(check_path(path)).name)
    result = import_path(ws.files, url, path, relout, rev=rev, progress=progress)
    _record_import(ws, relout)
    return result


def update(
    ws: Workspace,
    paths: Sequence[StrPath] = (),
    *,
    rev: str | None = None,
    force: bool = False,
    progress: Progress = _no_progress,
) -> list[ImportResult]:
    from strata.files.imports import update

    results = update(ws.files, ws.relpaths(paths), rev=rev, force=force, progress=progress)
    for r in results:
        if r.changed:
            _record_import(ws, r.path)
    return results


def _record_import(ws: Workspace, relpath: str) -> None:
    """Remember the version brought in, as ``add`` does, so hash-prefix refs find it."""
    from strata.meta import FileVersion

    p = tracked_in_tree(ws.files, [relpath])[0].pointer
    ws.db.record_file_versions([FileVersion(relpath, p.hash, p.kind, p.size, p.files)])
