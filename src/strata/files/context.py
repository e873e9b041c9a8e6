"""What every file operation works with, and turning user paths into workspace paths."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from strata.errors import PathOutsideWorkspaceError
from strata.objects.state import StateCache
from strata.objects.store import ObjectStore
from strata.paths import escape_reason, shown
from strata.scm import Git

RESERVED_DIRS = frozenset({".git", ".strata"})


@dataclass(frozen=True)
class FilesContext:
    root: Path
    store: ObjectStore
    state: StateCache
    git: Git | None
    jobs: int = 4

    def relpath(self, path: str | os.PathLike[str], *, cwd: Path | None = None) -> str:
        """The workspace-relative POSIX path of a user-given path; refuses anything outside."""
        given = Path(path)
        absolute = given if given.is_absolute() else (cwd or Path.cwd()) / given
        normal = Path(os.path.normpath(absolute))
        try:
            rel = normal.relative_to(self.root)
        except ValueError:
            raise PathOutsideWorkspaceError(
                f"{path} is outside the workspace {self.root}"
            ) from None
        if rel.parts and rel.parts[0] in RESERVED_DIRS:
            raise PathOutsideWorkspaceError(f"{path} is inside Strata's or git's own folder")
        return rel.as_posix() if rel.parts else "."

    def abspath(self, relpath: str) -> Path:
        return self.root / relpath

    def check_inside(self, relpath: str, doing: str) -> None:
        """Refuse ``relpath`` when a symlink on the way (its last component's included) leads
        out of the workspace or into .git or .strata: Strata reads and writes only inside."""
        reason = escape_reason(self.root, relpath, RESERVED_DIRS)
        if reason is not None:
            raise PathOutsideWorkspaceError(
                f"cannot {doing} {shown(relpath)}: {shown(reason)}",
                hint="remove that symlink or put a real folder or file in its place",
            )
