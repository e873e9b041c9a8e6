"""DVC-tracked data at git revisions from before a migration, read as Strata pointers.

A commit from before ``strata migrate dvc`` holds ``.dvc`` files and a dvc.lock, not
``.strata`` pointers. Once the migration has kept its md5 → BLAKE3 map, each such output whose
md5 the map knows reads as the pointer it would have had, so ``strata checkout --rev OLD``,
``diff`` and ``gc`` see that commit's data. Outputs the map does not know (not migrated: see
``--all-commits``) are left out.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Sequence
from pathlib import Path

from strata.config import STRATA_DIR
from strata.files.dvc_map import MAP_FILE, Md5Map
from strata.files.dvc_repo import DVC_SUFFIX, DvcOut, outs_of_dvc_file, outs_of_lock
from strata.files.pointer import POINTER_SUFFIX, Pointer
from strata.scm import Git

_PIPELINE_FILES = ("dvc.lock", "dvc.yaml")


def outs_at(git: Git, commit: str) -> list[DvcOut]:
    """The cached outputs the ``.dvc`` files and dvc.lock at ``commit`` name."""
    dvc_files = [f for f in git.files_at(commit, DVC_SUFFIX) if posixpath.basename(f) != DVC_SUFFIX]
    contents = git.read_at(commit, [*dvc_files, *_PIPELINE_FILES])
    found: list[DvcOut] = []
    for name in dvc_files:
        found += outs_of_dvc_file(f"{name}@{commit[:10]}", contents[name])
    found += outs_of_lock(contents.get)
    return [DvcOut(o.path, o.md5, o.size, o.source.replace(f"@{commit[:10]}", "")) for o in found]


def history_outs(git: Git, commits: Sequence[str] | None = None) -> list[DvcOut]:
    """Every distinct (path, md5) output of ``commits`` (default: every commit on a branch
    or tag)."""
    if commits is None:
        listed = git.try_output("rev-list", "--branches", "--tags")
        commits = listed.decode().split() if listed else []
    found: dict[tuple[str, str], DvcOut] = {}
    for commit in commits:
        for out in outs_at(git, commit):
            found.setdefault((out.path, out.md5), out)
    return list(found.values())


def pointers_at(
    md5_map: Md5Map | None, git: Git, commit: str, skip: Collection[str]
) -> dict[str, Pointer]:
    """Pointer file → the pointer each migrated DVC output at ``commit`` stands for, except
    where ``skip`` (the commit's own ``.strata`` files) has one."""
    if md5_map is None or not len(md5_map):
        return {}
    found: dict[str, Pointer] = {}
    for out in outs_at(git, commit):
        pointer_file = out.path + POINTER_SUFFIX
        mapped = md5_map.get(out.md5)
        if pointer_file in skip or mapped is None:
            continue
        found[pointer_file] = Pointer(
            path=posixpath.basename(out.path),
            kind="directory" if mapped.kind == "directory" else "file",
            hash=mapped.hash,
            size=mapped.size,
            files=mapped.files,
        )
    return found


def migrated_map(root: Path) -> Md5Map | None:
    """The workspace's md5 map, or None when it never migrated from DVC."""
    if not (root / STRATA_DIR / MAP_FILE).is_file():
        return None
    return Md5Map(root)
