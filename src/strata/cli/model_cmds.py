"""``strata model ...``: the model registry from the command line, thin over ``ws.models``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from strata.cli.output import (
    JsonOpt,
    err_console,
    handle_errors,
    human_size,
    print_records,
    print_result,
)
from strata.cli.source import registry, through_server
from strata.core.pairs import parse_metrics, parse_pairs
from strata.errors import UserInputError
from strata.workspace import Workspace

if TYPE_CHECKING:
    from strata.models import Event, ModelSummary, ModelVersion, Transition

app = typer.Typer(
    help="The model registry: versions, semvers, stages, aliases and an audit trail.\n\n"
    "Example: strata model register delay-classifier model.skops --metric auc=0.91",
    no_args_is_help=True,
)
alias_app = typer.Typer(
    help="Named pointers to versions. Example: strata model alias set model:clf@3 champion",
    no_args_is_help=True,
)
app.add_typer(alias_app, name="alias")

ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why; kept in the trail.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Override; needs --reason.")]
PairsOpt = Annotated[list[str] | None, typer.Option(help="KEY=VALUE, repeatable.")]


def _name(text: str) -> str:
    """A model name given as NAME or model:NAME."""
    from strata.refs import parse_ref

    ref = parse_ref(text if ":" in text else f"model:{text}", expect="model")
    if ref.selector is not None:
        raise UserInputError(f"{text!r} names a version", hint=f"give the model: {ref.name}")
    return ref.name


def _version_lines(v: ModelVersion) -> list[str]:
    lines = [
        f"{v.ref}  {v.semver}  stage {v.stage}"
        + (f"  aliases {', '.join(v.aliases)}" if v.aliases else ""),
        f"  semver:    {v.semver_reason}",
        f"  artifact:  {v.artifact_name} ({v.artifact_kind}, {human_size(v.size)}, "
        f"{v.files} files, flavor {v.flavor}) {v.artifact_hash[:12]}",
        f"  created:   {v.created_at.isoformat(timespec='seconds')} by {v.created_by}",
    ]
    if v.description:
        lines.append(f"  about:     {v.description}")
    if v.git_commit:
        lines.append(f"  code:      {v.git_commit[:12]}" + (" (dirty)" if v.git_dirty else ""))
    for label, values in (("tags", v.tags), ("metrics", v.metrics)):
        if values:
            lines.append(f"  {label + ':':10} " + ", ".join(f"{k}={x}" for k, x in values.items()))
    for label, value in (("data", ", ".join(v.data)), ("features", v.features), ("run", v.run)):
        if value:
            lines.append(f"  {label + ':':10} {value}")
    if v.signature:
        inputs = ", ".join(
            f"{c['name']}:{c['type']}" + ("" if c["required"] else "?")
            for c in v.signature["inputs"]
        )
        lines.append(f"  inputs:    {inputs}")
    return lines


def _event_line(e: Event) -> str:
    text = f"{e.at.isoformat(timespec='seconds')}  #{e.id}  {e.describe()}  by {e.actor}"
    if e.forced:
        text += "  FORCED"
    return text + (f"  — {e.reason}" if e.reason else "")


def _report(result: Transition, json_out: bool) -> None:
    lines = [_event_line(event) for event in result.events]
    print_result(result, lines or [f"{result.ref}: nothing to change"], json_out=json_out)
    if json_out:
        return
    for warning in result.warnings:
        err_console.print(f"warning: {warning}", markup=False)


@app.command("register")
@handle_errors
def register(
    name: str,
    path: Path,
    description: Annotated[str | None, typer.Option(help="What this version is.")] = None,
    tag: PairsOpt = None,
    metric: PairsOpt = None,
    data: Annotated[
        list[str] | None, typer.Option(help="Data it was trained on (a ref), repeatable.")
    ] = None,
    features: Annotated[str | None, typer.Option(help="Feature set ref.")] = None,
    run: Annotated[str | None, typer.Option(help="Run ref (default: the run in progress).")] = None,
    semver: Annotated[str | None, typer.Option(help="Semantic version X.Y.Z.")] = None,
    bump: Annotated[str | None, typer.Option(help="major, minor or patch.")] = None,
    signature: Annotated[
        Path | None, typer.Option(help="Input/output schema as JSON; drives the semver.")
    ] = None,
    flavor: Annotated[str | None, typer.Option(help="How to load it (default: by name).")] = None,
    reference_data: Annotated[
        str | None,
        typer.Option(
            "--reference-data",
            help="Keep this data's distribution with the version, for `strata drift`.",
        ),
    ] = None,
    allow_duplicate: Annotated[
        bool,
        typer.Option(
            "--allow-duplicate",
            help="Make a new version even if the latest one holds exactly this registration.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Store a model file or folder as a new version.

    Running the same registration again (after an interrupted one) registers nothing twice.

    Example: strata model register clf model.skops --data table:deliveries@47 --metric auc=0.91
    """
    from strata.models.signature import load

    with Workspace() as ws:
        reference = None if reference_data is None else ws.references.document(reference_data)
        version = ws.models.register(
            _name(name),
            path,
            description=description,
            tags=parse_pairs(tag, "tag"),
            metrics=parse_metrics(metric),
            data=data or [],
            features=features,
            run=run,
            semver=semver,
            bump=bump,
            signature=None if signature is None else load(signature),
            flavor=flavor,
            allow_duplicate=allow_duplicate,
        )
        if reference is not None:
            ws.references.keep(version.ref, reference)
            version = ws.models.show(version.ref)
    if version.reused:
        text = (
            f"{version.ref} already holds this registration (by {version.created_by} at "
            f"{version.created_at:%Y-%m-%d %H:%M:%S}): nothing registered; "
            "pass --allow-duplicate for a new version"
        )
    else:
        text = f"registered {version.ref} as {version.semver}: {version.semver_reason}"
    print_result(version, text, json_out=json_out)


@app.command("list")
@handle_errors
@through_server
def list_(json_out: JsonOpt = False) -> None:
    """Every registered model. Example: strata model list --json"""
    with registry() as models:
        found = models.list_models()
    print_records(found, _summary_line, json_out=json_out)


def _summary_line(m: ModelSummary) -> str:
    prod = f"production v{m.production}" if m.production else "nothing in production"
    return f"{m.name}\t{m.versions} versions, latest {m.latest}, {prod}"


@app.command("show")
@handle_errors
@through_server
def show(ref: str, json_out: JsonOpt = False) -> None:
    """One version, and why it got its semver. Example: strata model show model:clf@production"""
    with registry() as models:
        version = models.show(ref)
    print_result(version, _version_lines(version), json_out=json_out)


@app.command("versions")
@handle_errors
@through_server
def versions(
    name: str,
    stage: Annotated[str | None, typer.Option(help="Only versions in this stage.")] = None,
    tag: PairsOpt = None,
    semver: Annotated[str | None, typer.Option(help="A range, e.g. '>=1.0.0,<2.0.0'.")] = None,
    sort: Annotated[str, typer.Option(help="number, semver or created.")] = "number",
    desc: Annotated[bool, typer.Option("--desc", help="Newest first.")] = False,
    limit: Annotated[int | None, typer.Option(min=0, help="At most this many.")] = None,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Versions of a model, filtered, sorted and paginated.

    Example: strata model versions clf --tag team=eta --semver '>=1.0.0' --sort semver --desc
    """
    with registry() as models:
        found = models.versions(
            _name(name),
            stage=stage,
            tags=parse_pairs(tag, "tag"),
            semver_range=semver,
            sort=sort,
            descending=desc,
            limit=limit,
            offset=offset,
        )
    print_records(found, _version_row, json_out=json_out)


def _version_row(v: ModelVersion) -> str:
    extra = f"  aliases {', '.join(v.aliases)}" if v.aliases else ""
    return (
        f"{v.number}\t{v.semver}\t{v.stage}\t{v.created_at.isoformat(timespec='seconds')}" + extra
    )


@app.command("tag")
@handle_errors
def tag(
    ref: str,
    pairs: Annotated[list[str] | None, typer.Argument(help="KEY=VALUE to set.")] = None,
    rm: Annotated[list[str] | None, typer.Option("--rm", help="A tag to remove.")] = None,
    reason: ReasonOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Set or remove tags of a version. Example: strata model tag model:clf@3 reviewed=yes"""
    with Workspace() as ws:
        result = ws.models.tag(ref, parse_pairs(pairs, "tag"), remove=rm or [], reason=reason)
    _report(result, json_out)


@app.command("describe")
@handle_errors
def describe(ref: str, text: str, reason: ReasonOpt = None, json_out: JsonOpt = False) -> None:
    """Describe a model (model:NAME) or a version.

    Example: strata model describe model:clf "Predicts delivery delays"
    """
    with Workspace() as ws:
        result = ws.models.describe(ref if ":" in ref else f"model:{ref}", text, reason=reason)
    _report(result, json_out)


@app.command("download")
@handle_errors
def download(ref: str, out: Path, json_out: JsonOpt = False) -> None:
    """Write a version's artifact to a new path, verified.

    Example: strata model download model:clf@production ./model.skops
    """
    with Workspace() as ws:
        version = ws.models.show(ref)
        written = ws.models.download(version.ref, out)
    print_result(
        {"ref": version.ref, "path": str(written), "hash": version.artifact_hash},
        f"wrote {version.ref} to {written}",
        json_out=json_out,
    )


@app.command("promote")
@handle_errors
@through_server
def promote(
    ref: str,
    stage: Annotated[str, typer.Option(help="none, staging, production or archived.")],
    reason: ReasonOpt = None,
    keep_existing: Annotated[
        bool, typer.Option("--keep-existing", help="Do not archive the current holder.")
    ] = False,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Move a version to a stage; promotion gates apply.

    Example: strata model promote model:clf@3 --stage production --reason "better AUC"
    """
    with registry() as models:
        result = models.promote(ref, stage, reason=reason, keep_existing=keep_existing, force=force)
    _report(result, json_out)


@alias_app.command("set")
@handle_errors
@through_server
def alias_set(
    ref: str,
    alias: str,
    protected: Annotated[bool, typer.Option("--protected", help="Moves need --force.")] = False,
    force: ForceOpt = False,
    reason: ReasonOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Point an alias at a version. Example: strata model alias set model:clf@3 champion"""
    with registry() as models:
        result = models.set_alias(ref, alias, protected=protected, force=force, reason=reason)
    _report(result, json_out)


@alias_app.command("rm")
@handle_errors
@through_server
def alias_rm(
    name: str,
    alias: str,
    force: ForceOpt = False,
    reason: ReasonOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Remove an alias. Example: strata model alias rm clf champion"""
    with registry() as models:
        result = models.remove_alias(_name(name), alias, force=force, reason=reason)
    _report(result, json_out)


@app.command("history")
@handle_errors
@through_server
def history(name: str, json_out: JsonOpt = False) -> None:
    """The audit trail: who changed what, when and why. Example: strata model history clf"""
    with registry() as models:
        found = models.history(_name(name))
    print_records(found, _event_line, json_out=json_out)


def _instant(text: str | None, option: str = "--at") -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UserInputError(
            f"bad {option} {text!r}", hint="write an ISO time, e.g. 2024-03-03T14:00"
        ) from None


@app.command("resolve")
@handle_errors
@through_server
def resolve(
    ref: str,
    at: Annotated[str | None, typer.Option(help="An ISO time: answer from the trail.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """The exact version a ref points to, now or at an instant.

    Example: strata model resolve model:clf@production --at 2024-03-03T14:00
    """
    with registry() as models:
        found = models.resolve(ref, at=_instant(at))
    print_result(found, f"{found.ref}  {found.semver}", json_out=json_out)


@app.command("rollback")
@handle_errors
@through_server
def rollback(
    name: str,
    to: Annotated[str | None, typer.Option(help="The version to put back.")] = None,
    reason: ReasonOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Put back the previous production version (from the trail); archive the current one.

    Example: strata model rollback clf --reason "latency regression"
    """
    with registry() as models:
        result = models.rollback(_name(name), to=to, reason=reason)
    _report(result, json_out)


@handle_errors
@through_server
def audit(
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    since: Annotated[str | None, typer.Option(help="Only changes from this ISO time on.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="The newest N.")] = 100,
    json_out: JsonOpt = False,
) -> None:
    """The registry's trail across every model (or one), newest first.

    Example: strata audit --model clf --since 2024-03-01 --limit 20
    """
    instant = _instant(since, "--since")
    if instant is not None and instant.tzinfo is None:
        instant = instant.astimezone()  # a naive time is this machine's local time
    name = None if model is None else _name(model)
    with registry() as models:
        found = models.audit(model=name, since=instant, limit=limit)
    print_records(found, lambda e: f"{e.model}  {_event_line(e)}", json_out=json_out)
