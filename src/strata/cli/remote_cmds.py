"""``strata remote add|list|remove|modify``, ``push``, ``fetch``, ``pull``, and ``get``,
``import``, ``update`` (data from other repositories)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from strata.cli.config_cmds import warn_moved
from strata.cli.output import (
    JsonOpt,
    console,
    handle_errors,
    human_size,
    print_json,
    print_result,
    progress_bar,
)
from strata.config import shown
from strata.errors import RemoteError
from strata.objects.remote_listing import TransferResult
from strata.workspace import Workspace

if TYPE_CHECKING:
    from strata.files.imports import ImportResult

app = typer.Typer(
    help="Where data is shared: folders, s3://, gs://, az://.\n\n"
    "Example: strata remote add storage s3://bucket/strata --default",
    no_args_is_help=True,
)
RemoteOpt = Annotated[str | None, typer.Option("--remote", "-r", help="Remote name.")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=1, help="Parallel transfers.")]
RevOpt = Annotated[str | None, typer.Option("--rev", help="Pointers of this git revision.")]
PathsArg = Annotated[list[str] | None, typer.Argument(help="Tracked paths (default: all).")]


@app.command("add")
@handle_errors
def add(
    name: str,
    url: str,
    default: Annotated[bool, typer.Option("--default", help="Use it by default.")] = False,
) -> None:
    """Add a remote. Example: strata remote add backup /mnt/backup/strata --default"""
    warn_moved(Workspace().remotes.add(name, url, default=default))


@app.command("list")
@handle_errors
def list_(json_out: JsonOpt = False) -> None:
    """Every remote and its settings. Example: strata remote list --json"""
    ws = Workspace()
    default = ws.config.get("core.remote")
    rows = [
        {
            "name": name,
            "default": name == default,
            **{k: shown(f"remote.{name}.{k}", v) for k, v in settings.items()},
        }
        for name, settings in ws.remotes.configured().items()
    ]
    lines = (
        f"{row['name']}\t{row.get('url', '')}{' (default)' if row['default'] else ''}"
        for row in rows
    )
    print_result(rows, lines, json_out=json_out)


@app.command("remove")
@handle_errors
def remove(name: str) -> None:
    """Forget a remote (its data stays). Example: strata remote remove backup"""
    Workspace().remotes.remove(name)


@app.command("modify")
@handle_errors
def modify(
    name: str,
    key: str,
    value: str,
    local: Annotated[
        bool, typer.Option("--local", help="Keep it in the git-ignored config (secrets).")
    ] = False,
) -> None:
    """Change a setting (url, endpoint_url, region, profile); credentials always go to the
    git-ignored config.

    Example: strata remote modify storage endpoint_url http://127.0.0.1:9000
    """
    warn_moved(Workspace().remotes.modify(name, key, value, local=local))


def _report(
    verb: str, result: TransferResult, json_out: bool, extra: dict[str, object] | None = None
) -> None:
    if json_out:
        print_json({**result.to_dict(), **(extra or {})})
    else:
        packs = f" in {result.packs} pack{'s' if result.packs != 1 else ''}" if result.packs else ""
        console.print(
            f"{verb} {len(result.transferred)} objects ({human_size(result.bytes)}){packs}, "
            f"{result.present} already there"
        )
        for failure in result.failed:
            console.print(f"  [red]failed[/] {escape(failure.what)}: {escape(failure.reason)}")
    if result.failed:
        raise typer.Exit(RemoteError.exit_code)


def push(
    paths: PathsArg = None,
    remote: RemoteOpt = None,
    rev: RevOpt = None,
    jobs: JobsOpt = 4,
    json_out: JsonOpt = False,
) -> None:
    """Upload what the remote lacks. Example: strata push -r storage data/raw"""
    with Workspace() as ws, progress_bar("Pushing") as advance:
        result = ws.remotes.push(paths or [], remote=remote, rev=rev, jobs=jobs, progress=advance)
    _report("pushed", result, json_out)


def fetch(
    paths: PathsArg = None,
    remote: RemoteOpt = None,
    rev: RevOpt = None,
    jobs: JobsOpt = 4,
    json_out: JsonOpt = False,
) -> None:
    """Download into the cache what the pointers need. Example: strata fetch --rev main"""
    with Workspace() as ws, progress_bar("Fetching") as advance:
        result = ws.remotes.fetch(paths or [], remote=remote, rev=rev, jobs=jobs, progress=advance)
    _report("fetched", result, json_out)


def pull(
    paths: PathsArg = None,
    remote: RemoteOpt = None,
    jobs: JobsOpt = 4,
    force: Annotated[bool, typer.Option("--force", help="Discard unsaved changes.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Fetch, then check out. Example: strata pull data/raw"""
    with Workspace() as ws, progress_bar("Pulling") as advance:
        result, restored = ws.remotes.pull(
            paths or [], remote=remote, jobs=jobs, force=force, progress=advance
        )
    if not json_out:
        for r in restored:
            console.print(
                f"restored {r.path}: {r.written} written, {r.removed} removed", markup=False
            )
    _report("fetched", result, json_out, {"restored": [r.to_dict() for r in restored]})


RepoArg = Annotated[str, typer.Argument(help="Another Strata git repository: URL or path.")]
SourcePathArg = Annotated[str, typer.Argument(help="A tracked path in that repository.")]
SourceRevOpt = Annotated[
    str | None, typer.Option("--rev", help="Branch, tag or commit there (default: its HEAD).")
]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Where to put it.")]


def get(
    repo: RepoArg,
    path: SourcePathArg,
    rev: SourceRevOpt = None,
    out: OutOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Download a tracked path from another Strata repository; no workspace needed.

    Example: strata get https://github.com/team/datasets.git data/raw -o raw
    """
    from strata.files.imports import get as get_path

    with progress_bar("Getting") as advance:
        target = get_path(repo, path, rev=rev, out=out, progress=advance)
    if json_out:
        print_json({"path": str(target)})
    else:
        console.print(f"downloaded {escape(path)} to {escape(str(target))}")


def _print_import(r: ImportResult) -> None:
    if not r.changed:
        console.print(f"{escape(r.path)} is up to date ({r.commit[:10]})")
        return
    since = f" (was {r.previous_commit[:10]})" if r.previous_commit else ""
    console.print(
        f"imported {escape(r.source_path)} from {escape(r.repo)} at {r.commit[:10]}{since}"
        f" → commit {escape(r.path)}.strata"
    )


def import_(
    repo: RepoArg,
    path: SourcePathArg,
    rev: SourceRevOpt = None,
    out: OutOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Bring a tracked path from another Strata repository, recording its origin in the
    pointer so `strata update` can bring newer versions.

    Example: strata import ../datasets data/raw --rev v2 -o data/raw
    """
    with Workspace() as ws, progress_bar("Importing") as advance:
        result = ws.remotes.import_path(repo, path, out=out, rev=rev, progress=advance)
    if json_out:
        print_json(result.to_dict())
    else:
        _print_import(result)


def update(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Imported paths (default: all).")
    ] = None,
    rev: Annotated[
        str | None, typer.Option("--rev", help="Switch to this revision of the source.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Discard unsaved changes.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Bring newer versions of imported paths (re-resolves each import's revision).

    Example: strata update data/raw
    """
    with Workspace() as ws, progress_bar("Updating") as advance:
        results = ws.remotes.update(paths or [], rev=rev, force=force, progress=advance)
    if json_out:
        print_json([r.to_dict() for r in results])
        return
    if not results:
        console.print("Nothing was imported: `strata import REPO PATH` starts.")
    for r in results:
        _print_import(r)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="remote")
    for command in (push, fetch, pull, get, update):
        root.command()(handle_errors(command))
    root.command("import")(handle_errors(import_))
