"""``/api/v1/runs``: recorded runs, as ``strata runs --json`` and ``strata runs show --json``
print them, and the recording of a run that ran on a client."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from strata.server.auth import CallerDep

router = APIRouter(tags=["runs"])


class RunRecord(BaseModel):
    """A run that has ended, recorded with its inputs and outputs as refs."""

    model_config = ConfigDict(extra="forbid")
    job: str = Field(description="The job's name, e.g. train")
    params: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    command: list[str] | None = None
    inputs: list[str] = Field(default_factory=list, description="Refs it read")
    outputs: list[str] = Field(default_factory=list, description="Refs it wrote")
    environment: dict[str, Any] = Field(
        default_factory=dict, description="Where it ran: python, packages, host, git…"
    )
    failed: str | None = Field(None, description="Why it failed; absent when it completed")


def run_target(ref: str) -> str:
    return f"run:{ref.removeprefix('run:')}"


@router.get("/runs")
def runs(
    caller: CallerDep,
    job: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
) -> list[dict[str, Any]]:
    """Recorded runs, newest first."""
    caller.require("read", "run:*")
    return [r.to_dict() for r in caller.ws.lineage.runs(job=job, limit=limit)]


@router.get("/runs/{ref}")
def show(ref: str, caller: CallerDep) -> dict[str, Any]:
    """One run in full: params, metrics, environment, inputs and outputs."""
    caller.require("read", run_target(ref))
    return caller.ws.lineage.run(run_target(ref)).to_dict()


@router.post("/runs", status_code=201)
def record(body: RunRecord, caller: CallerDep) -> dict[str, Any]:
    """Record a finished run in one transaction, as the caller: its inputs need ``read``, the
    run and its outputs ``write``."""
    caller.require("write", "run:*")
    for ref in body.inputs:
        caller.require("read", ref)
    for ref in body.outputs:
        caller.require("write", ref)
    environment = {**body.environment, "client": caller.client}
    found = caller.ws.lineage.record_run(
        body.job, user=caller.principal.name, params=body.params, metrics=body.metrics,
        command=body.command, inputs=body.inputs, outputs=body.outputs,
        environment=environment, failed=body.failed,
    )  # fmt: skip
    return found.to_dict()
