"""Metrics, params and plots as they are in the workspace or at git revisions, and their diffs.

A revision's metrics are the metrics files its own ``strata.yaml`` names, read from that
revision (metrics files are small and committed to git, not cached); its params are every key
of the params files its stages use (``params.yaml`` when there is one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strata.errors import PipelineFileError, UserInputError
from strata.pipelines.datafiles import flatten, load_data, numbers
from strata.pipelines.parse import Reader, parse_pipeline
from strata.pipelines.spec import PARAMS_FILE, PIPELINE_FILE, Pipeline, PlotSpec
from strata.scm import Git

WORKSPACE = "workspace"
Values = dict[str, dict[str, Any]]
"""file → dotted key → value"""


@dataclass(frozen=True)
class DiffRow:
    path: str
    key: str
    old: Any
    new: Any

    @property
    def change(self) -> float | None:
        """new - old when both are numbers."""
        if _is_number(self.old) and _is_number(self.new):
            return float(self.new) - float(self.old)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "key": self.key,
            "old": self.old,
            "new": self.new,
            "change": self.change,
        }


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def diff(old: Values, new: Values, *, everything: bool = False) -> list[DiffRow]:
    """Rows for each key in either side whose value differs (every key with ``everything``)."""
    rows: list[DiffRow] = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path, {}), new.get(path, {})
        for key in sorted(set(before) | set(after)):
            row = DiffRow(path, key, before.get(key), after.get(key))
            if everything or row.old != row.new:
                rows.append(row)
    return rows


def read_now(root: Path, relpath: str) -> bytes | None:
    """A workspace file's contents now; None when it does not exist."""
    try:
        return (root / relpath).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    except OSError as exc:
        raise PipelineFileError(f"cannot read {relpath}: {exc.strerror}") from exc


class Revisions:
    """Reads pipeline files now (revision None) or at git revisions."""

    def __init__(self, root: Path, git: Git | None) -> None:
        self.root = root
        self.git = git
        self._commits: dict[str, str] = {}

    def commit(self, rev: str) -> str:
        if self.git is None:
            raise UserInputError(
                f"cannot read revision {rev!r}: this workspace does not use git",
                hint="compare the workspace only, or initialise it inside a git repository",
            )
        if rev not in self._commits:
            self._commits[rev] = self.git.resolve(rev)
        return self._commits[rev]

    def branches(self) -> list[str]:
        return self._refs("refs/heads/")

    def tags(self) -> list[str]:
        return self._refs("refs/tags/")

    def _refs(self, prefix: str) -> list[str]:
        if self.git is None:
            raise UserInputError("this workspace does not use git", hint="drop the option")
        return [r.removeprefix(prefix) for r in self.git.refs() if r.startswith(prefix)]

    def reader(self, rev: str | None) -> Reader:
        if rev is None:
            return self._read_now
        commit = self.commit(rev)
        assert self.git is not None
        git = self.git

        def read(relpath: str) -> bytes | None:
            return git.read_at(commit, [relpath]).get(relpath)

        return read

    def _read_now(self, relpath: str) -> bytes | None:
        return read_now(self.root, relpath)

    def pipeline(self, rev: str | None) -> Pipeline:
        read = self.reader(rev)
        data = read(PIPELINE_FILE)
        where = PIPELINE_FILE if rev is None else f"{PIPELINE_FILE}@{rev}"
        if data is None:
            return Pipeline(where)
        return parse_pipeline(data.decode("utf-8", errors="replace"), read, where)

    def metrics(self, rev: str | None, paths: tuple[str, ...] = ()) -> Values:
        """Metrics file → numeric metric → value; files absent at ``rev`` are left out."""
        read = self.reader(rev)
        found: Values = {}
        for path in paths or tuple(self.pipeline(rev).metric_files()):
            data = read(path)
            if data is not None:
                found[path] = numbers(load_data(_at(path, rev), data))
        return found

    def params(self, rev: str | None) -> Values:
        """Params file → dotted key → value, for every params file the stages use."""
        read = self.reader(rev)
        files = [PARAMS_FILE, *self.pipeline(rev).params_files()]
        found: Values = {}
        for path in dict.fromkeys(files):
            data = read(path)
            if data is not None:
                found[path] = flatten(load_data(_at(path, rev), data))
        return found

    def plots(
        self, rev: str | None, paths: tuple[str, ...] = ()
    ) -> dict[str, tuple[PlotSpec, bytes]]:
        read = self.reader(rev)
        specs = {p.path: p for p in self.pipeline(rev).plot_specs()}
        found: dict[str, tuple[PlotSpec, bytes]] = {}
        for path in paths or tuple(specs):
            data = read(path)
            if data is not None:
                found[path] = (specs.get(path, PlotSpec(path)), data)
        return found


def _at(path: str, rev: str | None) -> str:
    return path if rev is None else f"{path}@{rev}"


def label(rev: str | None) -> str:
    return WORKSPACE if rev is None else rev
