"""``strata migrate``: bring another tool's history into Strata (``dvc``, ``mlflow``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from strata.cli.output import (
    JsonOpt,
    console,
    handle_errors,
    human_size,
    print_json,
    print_result,
    progress_bar,
    say,
)
from strata.config import STRATA_DIR
from strata.workspace import Workspace

if TYPE_CHECKING:
    from strata.recovery.mlflow_migration import MigrationResult, Step

app = typer.Typer(
    help="Bring another tool's history into Strata. Example: strata migrate dvc --dry-run",
    no_args_is_help=True,
    rich_markup_mode=None,
)

PLURALS = {"alias": "aliases"}


@app.command("dvc")
@handle_errors
def dvc(
    path: Annotated[Path, typer.Argument(help="The DVC repository (git root).")] = Path(),
    from_remote: Annotated[
        str | None,
        typer.Option("--from-remote", help="DVC remote (a folder) to fetch what the cache lacks."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what it would do.")] = False,
    keep_dvc: Annotated[
        bool, typer.Option("--keep-dvc", help="Keep the .dvc files beside the pointers.")
    ] = False,
    all_commits: Annotated[
        bool,
        typer.Option("--all-commits", help="Also migrate the data of every branch and tag."),
    ] = False,
    skip_pipeline: Annotated[
        bool, typer.Option("--skip-pipeline", help="Leave dvc.yaml unconverted.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Migrate a DVC repository: data into the cache (md5-checked), .strata pointers,
    remotes, and dvc.yaml/dvc.lock as strata.yaml/strata.lock. Rerun it safely.

    Example: strata migrate dvc . && git add -A && git commit -m "Move to Strata"
    """
    from strata.recovery.migration import check_dvc_repo, migrate_dvc

    root = path.resolve()
    check_dvc_repo(root, from_remote=from_remote, skip_pipeline=skip_pipeline)
    created = not (root / STRATA_DIR).is_dir()
    try:
        ws = Workspace.init(root) if created else Workspace(root)
        with ws, progress_bar("Migrating") as bar:
            result = migrate_dvc(
                ws.files,
                ws.remotes,
                ws.pipelines,
                ws.models,
                from_remote=from_remote,
                dry_run=dry_run,
                keep_dvc=keep_dvc,
                all_commits=all_commits,
                skip_pipeline=skip_pipeline,
                progress=bar,
            )
    finally:
        if created and dry_run:  # leave no trace of a workspace nobody asked for yet
            shutil.rmtree(root / STRATA_DIR, ignore_errors=True)
    if json_out:
        print_json(result.to_dict())
    else:
        _print_summary(result)
    if result.files.problems:
        raise typer.Exit(1)


def _print_summary(result: object) -> None:
    from strata.recovery.migration import DvcMigration

    assert isinstance(result, DvcMigration)
    files = result.files
    verb = "would import" if files.dry_run else "imported"
    console.print(
        f"{verb} {len(files.outs)} outputs: {files.objects} new objects, {human_size(files.bytes)}"
    )
    if files.history:
        console.print(f"  and {len(files.history)} outputs of older commits")
    if files.dry_run:
        for out in files.outs:
            size = human_size(out.size)
            console.print(f"  {escape(out.path)} ({out.kind}, {size}) from {escape(out.source)}")
    for problem in files.problems:
        console.print(
            f"  [red]failed[/] {escape(problem.path)} (md5 {problem.md5}): {problem.reason}"
        )
    if files.pointers_written:
        console.print(f"wrote {len(files.pointers_written)} pointers")
    if files.dvc_files_removed:
        removed = "would remove" if files.dry_run else "removed"
        console.print(f"{removed} {len(files.dvc_files_removed)} .dvc files")
    for name in result.remotes_added:
        console.print(f"added remote {escape(name)}")
    pipeline = result.pipeline
    if pipeline is not None:
        console.print(
            f"pipeline: {len(pipeline.converted.pipeline.stages)} stages, "
            f"{len(pipeline.locked)} locked" + (" (written)" if pipeline.written else "")
        )
        for note in pipeline.converted.notes:
            console.print(f"  note: {escape(note)}")
    if result.models is not None:
        for ref in result.models.registered:
            console.print(f"registered {escape(ref)} from GTO")
        for assigned in result.models.assigned:
            console.print(f"  {escape(assigned)}")
        for skipped in result.models.skipped:
            console.print(f"  [yellow]skipped[/] {escape(skipped)}")
    if not files.dry_run:
        console.print("Next: git add -A && git commit -m 'Move to Strata'")


@app.command("mlflow")
@handle_errors
def mlflow(
    tracking_uri: Annotated[
        str,
        typer.Option(
            "--tracking-uri",
            envvar="MLFLOW_TRACKING_URI",
            help="The MLflow server (http://…) or its database (sqlite:///…, postgresql://…).",
        ),
    ],
    model: Annotated[
        list[str] | None, typer.Option("--model", help="Only this registered model (repeatable).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what it would do.")] = False,
    mlflow_command: Annotated[
        str | None,
        typer.Option("--mlflow", help="The mlflow command that serves a database URI."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Registered models, versions (files, stages, aliases, tags) and their runs from MLflow;
    a rerun adds only what is new. Credentials: MLFLOW_TRACKING_USERNAME and
    MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN.

    Example: strata migrate mlflow --tracking-uri http://mlflow:5000 --model delay-classifier
    """
    from strata.recovery.mlflow_serve import served

    with Workspace() as ws, served(tracking_uri, mlflow=mlflow_command) as url:
        progress = None if json_out else _print_step
        result = _migrate_mlflow(ws, url, tracking_uri, model or (), dry_run, progress)
    print_result(result, _summary(result), json_out=json_out)
    if result.failed:
        raise typer.Exit(1)


def _migrate_mlflow(
    ws: Workspace,
    url: str,
    name: str,
    models: Sequence[str],
    dry_run: bool,
    progress: Callable[[Step], None] | None,
) -> MigrationResult:
    from strata.activity import NoActivity
    from strata.recovery.links import RegistrationLinks
    from strata.recovery.mlflow_migration import Targets, migrate_mlflow
    from strata.recovery.mlflow_source import MlflowSource

    user, password = (os.environ.get(f"MLFLOW_TRACKING_{k}", "") for k in ("USERNAME", "PASSWORD"))
    token = os.environ.get("MLFLOW_TRACKING_TOKEN", "")
    auth = (user, password) if user else None
    source = MlflowSource(url, auth=auth, token=token, name=name)
    links = RegistrationLinks(
        tables=lambda: ws.tables, lineage=lambda: ws.lineage, registry=lambda: ws.models,
        targets=lambda: ws.recovery.rollbacks.targets, activity=NoActivity(),
    )  # fmt: skip
    targets = Targets(ws.models, ws.tracking, links.exact, ws.root / STRATA_DIR / "tmp" / "mlflow")
    try:
        return migrate_mlflow(
            source, targets, models=models, dry_run=dry_run,
            progress=progress or (lambda step: None),
        )  # fmt: skip
    finally:
        source.close()


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
