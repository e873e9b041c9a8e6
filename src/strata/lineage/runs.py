"""A run in progress: what code inside ``with ws.run(...)`` records into.

``Run`` is an ``Activity`` (see ``strata.activity``): tables, models and files report their
reads and writes to it while it is the workspace's activity. ``AttachedActivity`` is the same
for a child process started by ``strata run``, which finds the run id in ``STRATA_RUN_ID``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from strata.errors import LineageError, UserInputError

if TYPE_CHECKING:
    from strata.lineage.protocols import RunRecorder

RUN_ID_ENV = "STRATA_RUN_ID"


class Run:
    """The run in progress. Inputs and outputs are stored as they are reported (each in its
    own transaction), so a crash keeps what was recorded until then."""

    def __init__(
        self,
        lineage: RunRecorder,
        run_id: str,
        job: str,
        started_at: datetime,
        parent_id: str | None = None,
    ) -> None:
        self._lineage = lineage
        self.id = run_id
        self.job = job
        self.started_at = started_at
        # The run this one runs inside (an enclosing ``ws.run``, or the ``strata run`` whose
        # child started it); OpenLineage events name it in the ParentRunFacet.
        self.parent_id = parent_id
        self.metrics: dict[str, float] = {}
        self.params: dict[str, Any] = {}
        self.exit_code: int | None = None
        self.ended = False

    @property
    def ref(self) -> str:
        return f"run:{self.id}"

    def __repr__(self) -> str:
        return f"Run({self.ref}, job={self.job!r})"

    # -- the Activity seam ------------------------------------------------------------------
    def run_id(self) -> str | None:
        return self.id

    def read(self, ref: str) -> None:
        self.input(ref)

    def wrote(self, ref: str) -> None:
        self.output(ref)

    # -- by hand ----------------------------------------------------------------------------
    def input(self, ref: str) -> str:
        """Record ``ref`` as read, at its exact version; returns the exact ref."""
        self._check_open()
        exact = self._lineage.exact(ref)
        self._lineage.record_edges([(exact, self.ref, "input")], run_id=self.id)
        return exact

    def output(self, ref: str) -> str:
        """Record ``ref`` as written, at its exact version; returns the exact ref."""
        self._check_open()
        exact = self._lineage.exact(ref)
        self._lineage.record_edges([(self.ref, exact, "output")], run_id=self.id)
        return exact

    def _check_open(self) -> None:
        if self.ended:
            raise LineageError(
                f"{self.ref} has ended; cannot record into it", hint="start a new run"
            )

    def log_metric(self, name: str, value: float) -> None:
        """A metric of this run; stored when the run ends."""
        self.metrics[_metric_name(name)] = _metric_value(name, value)

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        for name, value in metrics.items():
            self.log_metric(name, value)

    def log_param(self, name: str, value: Any) -> None:
        """A parameter learned while running; stored with the others when the run ends."""
        self.params[_metric_name(name)] = value

    def set_exit_code(self, code: int) -> None:
        """The exit code of the command run; non-zero ends the run as failed."""
        self.exit_code = code


class AttachedActivity:
    """Records the reads and writes of a child process into its parent's run."""

    def __init__(self, run_id: str, lineage: Callable[[], RunRecorder]) -> None:
        self._run_id = run_id
        self._lineage = lineage
        self._checked = False

    def run_id(self) -> str | None:
        return self._run_id

    def _record(self, src: str, dst: str, kind: str) -> None:
        lineage = self._lineage()
        if not self._checked:
            lineage.require_running(self._run_id)
            self._checked = True
        lineage.record_edges([(src, dst, kind)], run_id=self._run_id)

    def read(self, ref: str) -> None:
        self._record(self._lineage().exact(ref), f"run:{self._run_id}", "input")

    def wrote(self, ref: str) -> None:
        self._record(f"run:{self._run_id}", self._lineage().exact(ref), "output")


def _metric_name(name: str) -> str:
    if not isinstance(name, str) or not name or len(name) > 200 or not name.isprintable():
        raise UserInputError(f"bad metric or param name {name!r}", hint="use a short name")
    return name


def _metric_value(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UserInputError(
            f"metric {name!r} is {value!r}, not a finite number", hint="log numbers only"
        )
    return float(value)


def checked_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    """``metrics`` with each name and value checked as ``Run.log_metric`` checks them."""
    return {_metric_name(name): _metric_value(name, value) for name, value in metrics.items()}


def checked_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with each name checked as ``Run.log_param`` checks it."""
    return {_metric_name(name): value for name, value in params.items()}
