"""DVC remotes as Strata remotes: the URL as Strata reads it and the options renamed to
Strata's; and the folder a local remote's objects are in, to fetch from."""

from __future__ import annotations

from pathlib import Path

from strata.files.dvc_repo import DVC_DIR, DvcRemote

# DVC's option names → Strata's (others carry over under their own name).
_RENAMED = {"endpointurl": "endpoint_url", "credentialpath": "credentials"}
# Settings that only steer DVC itself.
_DVC_ONLY = frozenset({"jobs", "verify", "version_aware", "worktree"})


def folder_of(remote: DvcRemote, root: Path) -> Path | None:
    """The folder of a local remote (DVC reads a relative one from ``.dvc/``), or None for
    a remote elsewhere (``s3://``, ``ssh://``, …)."""
    url = remote.url
    if url.startswith("file://"):
        url = url.removeprefix("file://")
    elif "://" in url:
        return None
    path = Path(url).expanduser()
    return path if path.is_absolute() else (root / DVC_DIR / path).resolve()


def strata_settings(remote: DvcRemote, root: Path) -> tuple[str, dict[str, str]]:
    """(URL, options) for ``strata remote add`` and ``modify``."""
    folder = folder_of(remote, root)
    url = str(folder) if folder is not None else remote.url
    options = {
        _RENAMED.get(key, key): value
        for key, value in sorted(remote.options.items())
        if key not in _DVC_ONLY
    }
    return url, options
