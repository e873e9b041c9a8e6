"""Value objects of lineage: runs, edges, feature sets, deployments."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

RunStatus = Literal["running", "completed", "failed", "unfinished"]


@dataclass(frozen=True)
class RunRecord:
    """A recorded run. ``status`` is "unfinished" for a run still marked running whose
    process is gone (killed), as seen from the host it ran on."""

    id: str
    job: str
    namespace: str
    status: RunStatus
    started_at: datetime
    ended_at: datetime | None
    exit_code: int | None
    command: list[str] | None
    params: dict[str, Any]
    metrics: dict[str, float]
    environment: dict[str, Any]
    host: str
    pid: int | None
    error: str | None
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    parent: str | None = None
    """The run this one ran inside (``run:ID``), when an event named it."""

    @property
    def ref(self) -> str:
        return f"run:{self.id}"

    @property
    def partial_outputs(self) -> bool:
        """Outputs of a run that did not complete may be incomplete."""
        return self.status != "completed"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ref"] = self.ref
        data["inputs"] = list(self.inputs)
        data["outputs"] = list(self.outputs)
        data["partial_outputs"] = self.partial_outputs and bool(self.outputs)
        return data


@dataclass(frozen=True)
class FeatureSet:
    name: str
    version: int
    content_hash: str
    features: tuple[str, ...]
    definition: str | None
    created_at: datetime
    new: bool = field(default=False, compare=False)

    @property
    def ref(self) -> str:
        return f"features:{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ref"] = self.ref
        data["features"] = list(self.features)
        return data


@dataclass(frozen=True)
class Deployment:
    id: str
    model: str
    target: str
    image: str | None
    deployed_at: datetime
    run_id: str | None

    @property
    def ref(self) -> str:
        return f"deployment:{self.id}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ref"] = self.ref
        return data


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    kind: str

    def to_dict(self) -> dict[str, str]:
        return {"src": self.src, "dst": self.dst, "kind": self.kind}
