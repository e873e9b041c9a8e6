"""``strata migrate``: bring another tool's history into Strata (``dvc`` now; MLflow later)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from strata.cli.output import JsonOpt, console, handle_errors, human_size, print_json, progress_bar
from strata.config import STRATA_DIR
from strata.workspace import Workspace

app = typer.Typer(
    help="Bring another tool's history into Strata. Example: strata migrate dvc --dry-run",
    no_args_is_help=True,
    rich_markup_mode=None,
)


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
        with ws, progress_bar("Migrating (bytes)") as advance:
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
                progress=advance,
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
