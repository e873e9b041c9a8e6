"""What a ``strata.yaml`` describes: stages, each a command with its inputs and outputs.

Paths are stored relative to the workspace root (a stage's ``wdir`` already applied), POSIX
style; dependencies may also be refs (``table:deliveries@latest``, ``model:clf@production``)
and outputs may name a table or model a stage writes (``table:deliveries``), so that the graph
knows which stage feeds which.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PIPELINE_FILE = "strata.yaml"
LOCK_FILE = "strata.lock"
PARAMS_FILE = "params.yaml"
REF_KINDS = ("table", "model")


def is_ref(text: str) -> bool:
    """A dependency or output that names a table or model rather than a path."""
    kind, colon, _ = text.partition(":")
    return bool(colon) and kind in REF_KINDS


@dataclass(frozen=True)
class ParamKey:
    """One parameter a stage uses: ``key`` (dotted) in the params file ``file``."""

    file: str
    key: str

    def __str__(self) -> str:
        return self.key if self.file == PARAMS_FILE else f"{self.file}:{self.key}"


@dataclass(frozen=True)
class PlotSpec:
    """A file of series to draw; ``x``/``y`` name its columns (default: the first two)."""

    path: str
    x: str | None = None
    y: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Stage:
    name: str
    cmd: str
    wdir: str = "."
    deps: tuple[str, ...] = ()
    params: tuple[ParamKey, ...] = ()
    outs: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    plots: tuple[PlotSpec, ...] = ()
    desc: str | None = None
    frozen: bool = False
    line: int = 0

    @property
    def path_outs(self) -> tuple[str, ...]:
        """Outputs tracked like ``strata add`` (cached, a pointer beside each)."""
        return tuple(o for o in self.outs if not is_ref(o))

    @property
    def ref_outs(self) -> tuple[str, ...]:
        return tuple(o for o in self.outs if is_ref(o))

    @property
    def written(self) -> tuple[str, ...]:
        """Every path or ref this stage writes: outputs, metrics and plots."""
        return (*self.outs, *self.metrics, *(p.path for p in self.plots))

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "cmd": self.cmd,
            "wdir": self.wdir,
            "deps": list(self.deps),
            "params": [str(p) for p in self.params],
            "outs": list(self.outs),
            "metrics": list(self.metrics),
            "plots": [p.path for p in self.plots],
            "desc": self.desc,
            "frozen": self.frozen,
        }


@dataclass(frozen=True)
class Pipeline:
    path: str
    stages: dict[str, Stage] = field(default_factory=dict)

    def metric_files(self) -> list[str]:
        return list(dict.fromkeys(m for s in self.stages.values() for m in s.metrics))

    def plot_specs(self) -> list[PlotSpec]:
        found: dict[str, PlotSpec] = {}
        for stage in self.stages.values():
            for plot in stage.plots:
                found.setdefault(plot.path, plot)
        return list(found.values())

    def params_files(self) -> list[str]:
        return list(dict.fromkeys(p.file for s in self.stages.values() for p in s.params))
