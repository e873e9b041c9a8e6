"""File and folder versioning: add, status, checkout, diff, gc, verify."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from strata.cli.output import (
    JsonOpt,
    console,
    escape,
    handle_errors,
    human_size,
    print_json,
    print_line,
    print_result,
    progress_bar,
)
from strata.errors import ObjectCorruptError, UserInputError
from strata.files import PathStatus
from strata.paths import shown
from strata.workspace import Workspace

PathsArg = Annotated[list[Path] | None, typer.Argument(help="Tracked paths (default: all).")]
TargetsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Tracked paths or file refs like file:data/raw@HEAD~1 (default: all)."),
]


def register(app: typer.Typer) -> None:
    for command in (add, status, checkout, diff, gc, verify):
        app.command()(handle_errors(command))


def add(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to track.")],
    json_out: JsonOpt = False,
) -> None:
    """Track files or folders: contents into the cache, a PATH.strata pointer beside each.

    Example: strata add data/raw && git add data/raw.strata data/.gitignore
    """
    with Workspace() as ws, progress_bar("Adding") as bar:
        results = ws.files.add(paths, progress=bar)
    if json_out:
        print_json([r.to_dict() for r in results])
        return
    for r in results:
        count = f"{r.files} files, " if r.kind == "directory" else ""
        console.print(
            f"added {escape(r.path)} ({count}{human_size(r.size)}, {r.new_objects} new objects)"
            f" → commit {escape(r.path)}.strata"
        )


def _print_status(st: PathStatus) -> None:
    if st.state == "unchanged":
        console.print(f"  [green]unchanged[/]  {escape(st.path)}")
        return
    detail = f" ({escape(st.detail)})" if st.detail else ""
    console.print(f"  [yellow]{st.state}[/]  {escape(st.path)}{detail}")
    for label, names in (
        ("added", st.changes.added),
        ("modified", st.changes.modified),
        ("deleted", st.changes.deleted),
    ):
        for name in names:
            console.print(f"      {label}: {escape(name)}")


def status(
    paths: PathsArg = None,
    remote: Annotated[
        bool, typer.Option("--remote", help="Compare with the remote instead.")
    ] = False,
    remote_name: Annotated[str | None, typer.Option("-r", help="Remote name.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """What changed in the workspace against the pointers; with --remote, what is not yet
    pushed or pulled.

    Example: strata status data/raw  (or: strata status --remote)
    """
    if remote or remote_name:
        _remote_status(paths or [], remote_name, json_out)
        return
    with Workspace() as ws:
        results = ws.files.status(paths or [])
    if json_out:
        print_json([s.to_dict() for s in results])
        return
    if not results:
        print_line("Nothing is tracked yet: `strata add PATH` starts.")
    elif all(s.state == "unchanged" for s in results):
        print_line(f"Workspace matches its pointers ({len(results)} tracked).")
    else:
        for st in results:
            _print_status(st)


def _remote_status(paths: list[Path], remote: str | None, json_out: bool) -> None:
    with Workspace() as ws:
        states = ws.remotes.status(paths, remote=remote)
    if json_out:
        print_json([s.to_dict() for s in states])
        return
    for st in states:
        if not st.not_pushed and not st.not_pulled:
            console.print(f"  [green]in sync[/]  {escape(st.path)}")
            continue
        parts = [f"{st.not_pushed} objects to push"] if st.not_pushed else []
        parts += [f"{st.not_pulled} objects to pull"] if st.not_pulled else []
        console.print(f"  [yellow]{', '.join(parts)}[/]  {escape(st.path)}")


def checkout(
    paths: TargetsArg = None,
    rev: Annotated[str | None, typer.Option("--rev", help="Git revision to restore.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Discard unsaved changes.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Restore tracked data from the pointers, or from the pointers at a git revision.

    Example: strata checkout --rev HEAD~1 data/raw  (or: strata checkout file:data/raw@HEAD~1)
    """
    with Workspace() as ws, progress_bar("Checking out") as bar:
        results = ws.files.checkout(paths or [], rev=rev, force=force, progress=bar)
    if json_out:
        print_json([r.to_dict() for r in results])
        return
    for r in results:
        if r.written or r.removed:
            console.print(f"restored {escape(r.path)}: {r.written} written, {r.removed} removed")
        else:
            console.print(f"{escape(r.path)} already up to date")
    if rev or any(p.startswith("file:") for p in paths or []):
        console.print("Pointers now match that version: commit them to keep it.")


def diff(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[REV_A [REV_B]] [PATH]...",
            help="Old revision (default HEAD), new revision (default: the workspace), paths.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Files added, modified and deleted between two git revisions, with sizes.

    Example: strata diff HEAD~1 HEAD data/raw --json
    """
    with Workspace() as ws:
        found, paths = ws.files.split_revisions(args or [])
        revs: list[str | None] = list(found)
        revs += [None] * (2 - len(found))
        entries = ws.files.diff(revs[0], revs[1], paths)
    if json_out:
        print_json([e.to_dict() for e in entries])
        return
    if not entries:
        console.print("No differences.")
    colours = {"added": "green", "deleted": "red", "modified": "yellow"}
    for e in entries:
        sizes = (
            human_size(e.new_size)
            if e.change == "added"
            else human_size(e.old_size)
            if e.change == "deleted"
            else f"{human_size(e.old_size)} → {human_size(e.new_size)}"
        )
        colour = colours[e.change]
        console.print(f"  [{colour}]{e.change:8}[/] {escape(shown(e.path))}  ({sizes})")


def gc(
    workspace: Annotated[
        bool, typer.Option("--workspace", help="Keep only what the working tree needs.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would go.")] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Even if a listing is missing, or the remote is shared."),
    ] = False,
    cloud: Annotated[
        bool, typer.Option("--cloud", help="Collect the remote instead of the cache.")
    ] = False,
    remote_name: Annotated[str | None, typer.Option("--remote", "-r", help="Remote name.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Remove cached objects no pointer needs (on every branch and tag by default); with
    --cloud, remote objects and chunks instead.

    Example: strata gc --dry-run  (or: strata gc --cloud -r storage --dry-run)
    """
    if cloud or remote_name:
        if workspace:
            raise UserInputError(
                "--workspace applies to the cache, not to --cloud",
                hint="gc --cloud keeps what any branch or tag needs",
            )
        _gc_cloud(remote_name, dry_run, force, json_out)
        return
    with Workspace() as ws, progress_bar("Collecting") as bar:
        result = ws.files.gc(workspace_only=workspace, dry_run=dry_run, force=force, progress=bar)
    if json_out:
        print_json(result.to_dict())
        return
    verb = "would remove" if dry_run else "removed"
    console.print(
        f"{verb} {len(result.removed)} objects ({human_size(result.bytes_freed)}); "
        f"kept {result.kept} needed by {len(result.revisions)} revisions"
    )


def _gc_cloud(remote: str | None, dry_run: bool, force: bool, json_out: bool) -> None:
    with Workspace() as ws, progress_bar("Collecting") as advance:
        result = ws.remotes.gc(remote=remote, dry_run=dry_run, force=force, progress=advance)
    verb = "would remove" if dry_run else "removed"
    packs = ""
    if result.packs_removed or result.packs_rewritten:
        gone, redone = ("to remove", "to rewrite") if dry_run else ("removed", "rewritten")
        packs = f" (packs: {result.packs_removed} {gone}, {result.packs_rewritten} {redone})"
    if result.temp_files_removed or result.uploads_aborted:
        gone, stopped = ("to remove", "to abort") if dry_run else ("removed", "aborted")
        packs += (
            f" (left by unfinished pushes: {result.temp_files_removed} temporary files {gone}, "
            f"{result.uploads_aborted} uploads {stopped})"
        )
    text = (
        f"{verb} {len(result.removed)} objects and {result.chunks_removed} chunks "
        f"({human_size(result.bytes_freed)}) from remote {result.remote!r}{packs}; "
        f"kept {result.kept} needed by {len(result.revisions)} revisions"
    )
    print_result(result, text, json_out=json_out)


def verify(
    remote: Annotated[bool, typer.Option("--remote", help="Check the remote instead.")] = False,
    remote_name: Annotated[str | None, typer.Option("-r", help="Remote name.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Re-hash the cache (or, with --remote, the remote's objects); report every corrupt or
    missing object. Exit 9 when any.

    Example: strata verify --json
    """
    with Workspace() as ws, progress_bar("Verifying") as bar:
        if remote or remote_name:
            result = ws.remotes.verify(remote=remote_name, progress=bar)
        else:
            result = ws.files.verify(progress=bar)
    if json_out:
        print_json(result.to_dict())
    else:
        for p in result.problems:
            console.print(f"  [red]{p.problem}[/]  {p.hash[:12]}  {escape(p.path)}")
        console.print(f"checked {result.checked} objects: {len(result.problems)} problems")
    if not result.ok:
        raise typer.Exit(ObjectCorruptError.exit_code)
