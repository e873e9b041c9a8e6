"""Which versions of a Delta table can still be read: for the error that says one cannot
(worded by ``unreadable.version_gone``)."""

from __future__ import annotations

from collections.abc import Sequence


def readable_versions(location: str, versions: Sequence[int], pinned: Sequence[int]) -> list[int]:
    """Of ``versions`` (newest first), those whose log and data files are all there: from
    the newest down to the first that is not (vacuum keeps a recent run), and pinned ones."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(location)
    present = {_plain(path) for path in fs.find(root)}
    found = []
    for version in versions:
        if _readable(location, version, present):
            found.append(version)
        else:
            break
    found += [v for v in pinned if v not in found and _readable(location, v, present)]
    return sorted(found)


def _readable(location: str, version: int, present: set[str]) -> bool:
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError

    try:
        uris = DeltaTable(location, version=version).file_uris()
    except (DeltaError, OSError):
        return False
    return all(_plain(uri) in present for uri in uris)


def _plain(path: str) -> str:
    return path.split("://", 1)[-1].rstrip("/")
