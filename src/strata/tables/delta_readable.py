"""Which versions of a Delta table can still be read: for the error that says one cannot."""

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


def describe(versions: Sequence[int]) -> str:
    """``[1, 5, 6, 7]`` → ``"1, 5..7"``."""
    runs: list[list[int]] = []
    for version in sorted(versions):
        if runs and version == runs[-1][-1] + 1:
            runs[-1].append(version)
        else:
            runs.append([version])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs) or "none"


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
