"""``strata migrate mlflow``: bring another tool's history into the workspace."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from strata.cli.output import JsonOpt, handle_errors, print_result, say
from strata.config import STRATA_DIR
from strata.workspace import Workspace

if TYPE_CHECKING:
    from strata.recovery.mlflow_migration import MigrationResult, Step

PLURALS = {"alias": "aliases"}
app = typer.Typer(help="Bring history from DVC or MLflow into Strata.", no_args_is_help=True)


@app.command("mlflow")
@handle_errors
def mlflow(
    tracking_uri: Annotated[
        str,
        typer.Option(
            "--tracking-uri", envvar="MLFLOW_TRACKING_URI", help="The MLflow server (http://…)."
        ),
    ],
    model: Annotated[
        list[str] | None, typer.Option("--model", help="Only this registered model (repeatable).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what it would do.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Registered models, versions (files, stages, aliases, tags) and their runs from MLflow;
    a rerun adds only what is new. Credentials: MLFLOW_TRACKING_USERNAME and
    MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN.

    Example: strata migrate mlflow --tracking-uri http://mlflow:5000 --model delay-classifier
    """
    from strata.activity import NoActivity
    from strata.recovery.links import RegistrationLinks
    from strata.recovery.mlflow_migration import Targets, migrate_mlflow
    from strata.recovery.mlflow_source import MlflowSource

    user, password = (os.environ.get(f"MLFLOW_TRACKING_{k}", "") for k in ("USERNAME", "PASSWORD"))
    token = os.environ.get("MLFLOW_TRACKING_TOKEN", "")
    source = MlflowSource(tracking_uri, auth=(user, password) if user else None, token=token)
    try:
        with Workspace() as ws:
            scratch = ws.root / STRATA_DIR / "tmp" / "mlflow"
            links = RegistrationLinks(
                tables=lambda: ws.tables, lineage=lambda: ws.lineage, registry=lambda: ws.models,
                targets=lambda: ws.recovery.rollbacks.targets, activity=NoActivity(),
            )  # fmt: skip
            targets = Targets(ws.models, ws.tracking, links.exact, scratch)
            progress = None if json_out else _print_step
            result = migrate_mlflow(
                source, targets, models=model or (), dry_run=dry_run,
                progress=progress or (lambda step: None),
            )  # fmt: skip
    finally:
        source.close()
    print_result(result, _summary(result), json_out=json_out)
    if result.failed:
        raise typer.Exit(1)


def _print_step(step: Step) -> None:
    say(f"  {step.action:8} {step.target}  {step.detail}".rstrip())


def _summary(result: MigrationResult) -> list[str]:
    counts = result.to_dict()["counts"]
    assert isinstance(counts, dict)
    done = ", ".join(f"{n} {PLURALS.get(a, a + 's')}" for a, n in counts.items()) or "nothing new"
    verb = "would migrate" if result.dry_run else "migrated"
    lines = [f"{verb} from {result.source}: {done}; {result.unchanged} versions already there"]
    lines += [f"failed: {target}: {error}" for target, error in result.failed]
    return lines
