"""The stage graph: which stage's outputs another stage depends on, in an order that runs.

A dependency on a path matches an output at, above or below it (``data`` depends on the stage
writing ``data/features.csv``, and ``data/features.csv`` on the stage writing ``data``); a
dependency on ``table:NAME@...`` matches the stage with output ``table:NAME``. Two stages
writing overlapping paths, or the same table or model, and cycles are refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from strata.errors import PipelineGraphError, UserInputError
from strata.pipelines.spec import Pipeline, Stage, is_ref

Format = Literal["text", "dot", "mermaid"]


def _ref_name(text: str) -> str:
    """``table:deliveries@latest`` → ``table:deliveries``."""
    return text.partition("@")[0]


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


@dataclass(frozen=True)
class StageGraph:
    pipeline: Pipeline
    upstream: dict[str, tuple[str, ...]]  # stage → the stages it depends on

    @classmethod
    def build(cls, pipeline: Pipeline) -> StageGraph:
        stages = pipeline.stages
        writers = _writers(stages.values())
        upstream: dict[str, tuple[str, ...]] = {}
        for stage in stages.values():
            found: list[str] = []
            for dep in stage.deps:
                found += [w for w in _writers_of(dep, writers) if w != stage.name]
            upstream[stage.name] = tuple(dict.fromkeys(found))
        graph = cls(pipeline, upstream)
        graph.order()  # refuses cycles
        return graph

    @property
    def stages(self) -> dict[str, Stage]:
        return self.pipeline.stages

    def order(self, targets: Sequence[str] = ()) -> list[Stage]:
        """``targets`` (default: every stage) and what they depend on, dependencies first."""
        for name in targets:
            if name not in self.stages:
                known = ", ".join(self.stages) or "none"
                raise UserInputError(
                    f"no stage {name!r} in {self.pipeline.path}", hint=f"stages: {known}"
                )
        wanted = self._closure(targets or list(self.stages))
        done: list[str] = []
        state: dict[str, str] = {}
        for name in self.stages:
            if name in wanted:
                self._visit(name, state, done, [])
        return [self.stages[n] for n in done]

    def _closure(self, names: Iterable[str]) -> set[str]:
        found: set[str] = set()
        frontier = list(names)
        while frontier:
            name = frontier.pop()
            if name not in found:
                found.add(name)
                frontier += self.upstream[name]
        return found

    def _visit(self, name: str, state: dict[str, str], done: list[str], path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = [*path[path.index(name) :], name]
            raise PipelineGraphError(
                f"{self.pipeline.path} has a cycle: {' -> '.join(cycle)}",
                hint="a stage cannot depend, directly or not, on its own outputs",
            )
        state[name] = "visiting"
        for up in self.upstream[name]:
            self._visit(up, state, done, [*path, name])
        state[name] = "done"
        done.append(name)

    # -- drawing ------------------------------------------------------------------------------
    def edges(self) -> list[tuple[str, str]]:
        return [(up, name) for name in self.stages for up in self.upstream[name]]

    def render(self, fmt: Format) -> str:
        if fmt == "dot":
            lines = ["digraph pipeline {", "  rankdir=LR;"]
            lines += [f'  "{name}";' for name in self.stages]
            lines += [f'  "{a}" -> "{b}";' for a, b in self.edges()]
            return "\n".join([*lines, "}"])
        if fmt == "mermaid":
            ids = {name: f"s{i}" for i, name in enumerate(self.stages)}
            lines = ["flowchart LR"]
            lines += [f'  {ids[name]}["{name}"]' for name in self.stages]
            lines += [f"  {ids[a]} --> {ids[b]}" for a, b in self.edges()]
            return "\n".join(lines)
        lines = []
        for stage in self.order():
            ups = self.upstream[stage.name]
            after = f"  <- {', '.join(ups)}" if ups else ""
            frozen = " (frozen)" if stage.frozen else ""
            lines.append(f"{stage.name}{frozen}{after}")
        return "\n".join(lines) if lines else "(no stages)"


def _writers(stages: Iterable[Stage]) -> list[tuple[str, str]]:
    """(written path or ref name, stage) pairs; overlapping writes refused."""
    seen: list[tuple[str, str]] = []
    for stage in stages:
        for written in stage.written:
            target = _ref_name(written) if is_ref(written) else written
            for other, owner in seen:
                clash = (
                    other == target
                    if is_ref(written)
                    else (not is_ref(other) and _overlaps(other, target))
                )
                if clash:
                    same = "" if other == target else f" (overlapping {other})"
                    who = f"stages {owner!r} and {stage.name!r}"
                    if owner == stage.name:
                        who = f"stage {owner!r} twice"
                    raise PipelineGraphError(f"{who} write {target}{same}")
            seen.append((target, stage.name))
    return seen


def _writers_of(dep: str, writers: Sequence[tuple[str, str]]) -> list[str]:
    if is_ref(dep):
        name = _ref_name(dep)
        return [owner for target, owner in writers if target == name]
    return [owner for target, owner in writers if not is_ref(target) and _overlaps(dep, target)]
