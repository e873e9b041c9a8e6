"""``verify``: re-hash every cached object and find the ones pointers need but lack."""

from __future__ import annotations

from dataclasses import dataclass

from strata.core.progress import Progress, advance, expect, no_progress
from strata.errors import ObjectCorruptError, ObjectMissingError
from strata.files.context import FilesContext
from strata.files.discover import load_tree, tracked_in_tree
from strata.parallel import parallel_map


@dataclass(frozen=True, slots=True)
class Problem:
    hash: str
    path: str
    problem: str  # "corrupt" | "missing"

    def to_dict(self) -> dict[str, object]:
        return {"hash": self.hash, "path": self.path, "problem": self.problem}


@dataclass(frozen=True, slots=True)
class VerifyResult:
    checked: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "problems": [p.to_dict() for p in self.problems],
        }


NOT_NEEDED = "(not needed by any pointer)"


def owners(ctx: FilesContext) -> dict[str, str]:
    """Object → the tracked path that needs it, for the working tree's pointers."""
    found: dict[str, str] = {}
    for t in tracked_in_tree(ctx):
        found.setdefault(t.pointer.hash, t.path)
        if t.pointer.kind != "directory":
            continue
        what = f"the listing of {t.path}"
        try:
            tree = load_tree(ctx, t.pointer.hash, what)
        except (ObjectMissingError, ObjectCorruptError):
            continue  # reported below as missing or corrupt
        for entry in tree.entries:
            found.setdefault(entry.hash, f"{t.path}/{entry.path}")
    return found


def _size(ctx: FilesContext, name: str) -> int:
    try:
        return ctx.store.size(name)
    except OSError:
        return 0  # gone meanwhile: verify reports it


def verify(ctx: FilesContext, progress: Progress = no_progress) -> VerifyResult:
    """Re-hash every cached object; ``progress`` expects them all, and their bytes."""
    needed = owners(ctx)
    problems: list[Problem] = []
    names = list(ctx.store.names())
    sizes = {name: _size(ctx, name) for name in names}
    expect(progress, len(names), sum(sizes.values()))

    def check(name: str) -> bool:
        intact = ctx.store.is_intact(name)
        advance(progress, 1, sizes[name])
        return intact

    intact = parallel_map(check, names, ctx.jobs)
    for name, good in zip(names, intact, strict=True):
        if not good:
            problems.append(Problem(name, needed.get(name, NOT_NEEDED), "corrupt"))
    present = set(names)
    for name, path in sorted(needed.items(), key=lambda item: item[1]):
        if name not in present:
            problems.append(Problem(name, path, "missing"))
    return VerifyResult(len(names), tuple(problems))
