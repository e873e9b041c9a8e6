"""``strata release create|list|show|diff|rollback``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from strata.cli.output import JsonOpt, console, handle_errors, print_json, print_result
from strata.cli.source import server, through_server
from strata.workspace import Workspace

if TYPE_CHECKING:
    from strata.recovery.incidents import Incident
    from strata.recovery.releases import Release, ReleaseRollback

app = typer.Typer(
    help="Named sets of code, model, table and file versions that ship together.\n\n"
    "Example: strata release create 2024.10.15",
    no_args_is_help=True,
)


@app.command("create")
@handle_errors
def create(
    name: str,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="A model version (default: every staging/production one)."),
    ] = None,
    table: Annotated[
        list[str] | None,
        typer.Option("--table", help="A table version (default: every table's latest)."),
    ] = None,
    features: Annotated[
        list[str] | None, typer.Option("--features", help="A feature set version.")
    ] = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    json_out: JsonOpt = False,
) -> None:
    """Record a release and pin its table versions.

    Example: strata release create 2024.10.15 --table table:deliveries@47
    """
    release = Workspace().recovery.releases.create(
        name,
        models=model or (),
        tables=table or (),
        features=features or (),
        description=description,
    )
    text = (
        f"release {release.name}: {len(release.models)} model versions, "
        f"{len(release.tables)} tables (pinned), {len(release.files)} tracked paths, "
        f"commit {(release.commit or '-')[:12]}"
    )
    print_result(release.to_json(), text, json_out=json_out)


def _releases() -> list[Release]:
    from strata.recovery.releases import Release

    api = server()
    if api is not None:
        return [Release.from_json(r) for r in api.releases()]
    return Workspace().recovery.releases.all()


def _release(name: str) -> Release:
    from strata.recovery.releases import Release

    api = server()
    if api is not None:
        return Release.from_json(api.release(name))
    return Workspace().recovery.releases.get(name)


@app.command("list")
@handle_errors
@through_server
def list_(json_out: JsonOpt = False) -> None:
    """Every release, oldest first. Example: strata release list --json"""
    releases = _releases()
    lines = (
        f"{r.name}\t{r.created_at.isoformat(timespec='seconds')}\t{r.created_by}\t{r.description}"
        for r in releases
    )
    print_result([r.to_json() for r in releases], lines, json_out=json_out)


@app.command("show")
@handle_errors
@through_server
def show(name: str, json_out: JsonOpt = False) -> None:
    """What a release holds. Example: strata release show 2024.10.15"""
    release = _release(name)
    print_result(release.to_json(), _contents(release), json_out=json_out)


def _contents(release: Release) -> Iterator[str]:
    yield f"release {release.name}  commit {release.commit or '-'}"
    for m in release.models:
        aliases = f" ({', '.join(m.aliases)})" if m.aliases else ""
        yield f"  {m.ref}  {m.stage}{aliases}"
    for table, version in sorted(release.tables.items()):
        yield f"  table:{table}@{version}"
    for path, digest in sorted(release.files.items()):
        yield f"  file:{path}@{digest[:12]}"
    for ref in release.features:
        yield f"  {ref}"


@app.command("diff")
@handle_errors
@through_server
def diff(a: str, b: str, json_out: JsonOpt = False) -> None:
    """What changed between two releases. Example: strata release diff 2024.10.01 2024.10.15"""
    api = server()
    changes = (
        api.release_diff(a, b) if api is not None else Workspace().recovery.releases.diff(a, b)
    )
    if json_out:
        print_json(changes)
        return
    if changes["commit"]:
        console.print(f"commit  {changes['commit']['old']} → {changes['commit']['new']}")
    for kind in ("models", "tables", "files"):
        for key, change in changes[kind].items():
            console.print(f"{kind[:-1]:6} {key}: {change['old']} → {change['new']}", markup=False)
    if not any(changes[k] for k in ("commit", "models", "tables", "files", "features")):
        console.print("the releases hold the same versions")


@app.command("rollback")
@handle_errors
@through_server
def rollback(
    name: str,
    reason: Annotated[str | None, typer.Option("--reason", help="Why; kept in the trail.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Put model stages, aliases and tables back to a release, all or nothing.

    Example: strata release rollback 2024.10.15 --reason "bad weather features"
    """
    done = _roll_back(name, reason)
    lines = [f"  {step}" for step in done.steps]
    lines.append(f"rolled back to {done.release}: {len(done.steps)} steps")
    if done.git_command:
        lines.append(f"code and file pointers: {done.git_command}")
    print_result(done.to_json(), lines, json_out=json_out)


def _roll_back(name: str, reason: str | None) -> ReleaseRollback:
    from strata.recovery.releases import ReleaseRollback

    api = server()
    if api is not None:
        return ReleaseRollback.from_json(api.release_rollback(name, {"reason": reason}))
    return Workspace().recovery.releases.rollback(name, reason=reason)


incident_app = typer.Typer(
    help="Incident reports from the audit trail and lineage.\n\n"
    "Example: strata incident report --since 24h --model delay-classifier",
    no_args_is_help=True,
)


@incident_app.command("report")
@handle_errors
@through_server
def incident_report(
    since: Annotated[str, typer.Option("--since", help="ISO time, or a duration back: 24h.")],
    model: Annotated[str | None, typer.Option("--model", help="Only this model.")] = None,
    impact: Annotated[
        str | None, typer.Option("--impact", help="Add an impact analysis of this ref.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write it to a file.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """A Markdown timeline: promotions, guard checks, rollbacks, table commits, deployments,
    what an impact analysis found, and who did what and why.

    Example: strata incident report --since 2024-03-03T12:00 --impact table:deliveries@40..52
    """
    report = _incident(since, model, impact)
    if json_out:
        print_json(report.to_json())
        return
    text = report.to_markdown()
    if out is None:
        console.print(text, markup=False, end="")
        return
    from strata.paths import atomic_write

    atomic_write(out, text.encode())
    console.print(f"wrote {out}", markup=False)


def _incident(since: str, model: str | None, impact: str | None) -> Incident:
    from strata.recovery.incidents import Incident, parse_since

    api = server()
    if api is not None:
        found = api.incidents({"since": since, "model": model, "impact": impact})
        return Incident.from_json(found, impact_of=impact)
    return Workspace().recovery.incident_report(
        since=parse_since(since), model=model, impact=impact
    )
