"""``strata run``, ``runs``, ``lineage``, ``provenance``, ``impact``, ``compare``,
``reproduce``, ``features``, ``deploy`` and ``openlineage``: thin over ``ws.lineage``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Annotated, Literal

import typer

from strata.cli.output import (
    JsonOpt,
    console,
    err_console,
    handle_errors,
    print_json,
    print_records,
    print_result,
)
from strata.cli.source import lineage as lineage_source
from strata.cli.source import require_local, through_server
from strata.core import safe_yaml
from strata.errors import UserInputError
from strata.workspace import Workspace

RefArg = Annotated[str, typer.Argument(help="A ref, e.g. model:delay-classifier@3.")]

runs_app = typer.Typer(
    help="Recorded runs. Example: strata runs --json", invoke_without_command=True
)
features_app = typer.Typer(
    help="Feature sets: versioned lists of feature names and definitions.\n\n"
    "Example: strata features register delivery --features distance_km,weather",
    no_args_is_help=True,
)
deploy_app = typer.Typer(
    help="Where model versions serve.\n\n"
    "Example: strata deploy record model:delay-classifier@3 --target prod-serving",
    no_args_is_help=True,
)
openlineage_app = typer.Typer(
    help="OpenLineage events in and out.\n\nExample: strata openlineage ingest events.jsonl",
    no_args_is_help=True,
)


def _parse_params(pairs: list[str]) -> dict[str, object]:
    import yaml

    params: dict[str, object] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise UserInputError(f"bad --param {pair!r}", hint="write --param name=value")
        try:
            params[key.strip()] = safe_yaml.load(value) if value else ""
        except (yaml.YAMLError, safe_yaml.YamlTooLarge):
            params[key.strip()] = value
    return params


@handle_errors
def run(
    command: Annotated[list[str] | None, typer.Argument(help="The command, after --.")] = None,
    name: Annotated[str | None, typer.Option("--name", "-n", help="Job name.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="name=value.")] = None,
    input_: Annotated[list[str] | None, typer.Option("--input", "-i", help="Input ref.")] = None,
    output: Annotated[list[str] | None, typer.Option("--output", "-o", help="Output ref.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a command as a recorded run: params, metrics, environment, inputs and outputs.

    Example: strata run --name train --param lr=0.1 --input table:deliveries@latest -- python
    train.py. A Strata-using child process records into the same run (STRATA_RUN_ID). Exits
    with the command's exit code. `strata run show run:ID` shows a run.
    """
    args = list(command or [])
    if name is None and args[:1] == ["show"]:
        # Options after `show` reach here as command words (the command takes everything).
        rest = [a for a in args[1:] if a != "--json"]
        if len(rest) != 1:
            raise UserInputError("`run show` takes one run", hint="strata run show run:ID --json")
        _show(rest[0], json_out or "--json" in args[1:])
        return
    if name is None:
        raise UserInputError("no job name", hint="pass --name JOB, e.g. strata run --name train")
    if not args:
        raise UserInputError("no command to run", hint="put it after --: strata run -n x -- CMD")
    if shutil.which(args[0]) is None:
        raise UserInputError(f"command {args[0]!r} not found", hint="check the name and PATH")
    params = _parse_params(param or [])
    from strata.lineage import RUN_ID_ENV

    with Workspace() as ws:
        with ws.run(
            name, params=params, command=args, inputs=input_ or [], outputs=output or []
        ) as recorded:
            env = {**os.environ, RUN_ID_ENV: recorded.id}
            done = subprocess.run(args, env=env, check=False)
            recorded.set_exit_code(done.returncode)
        record = ws.lineage.run(recorded.ref)
    if json_out:
        print_json(record.to_dict())
    else:
        err_console.print(
            f"{record.ref} {record.job}: {record.status}", markup=False, soft_wrap=True
        )
    if done.returncode != 0:
        from strata.pipelines.command import exit_status

        raise typer.Exit(exit_status(done.returncode))


def _show(ref: str, json_out: bool) -> None:
    from strata.lineage.report import run_text

    with Workspace() as ws:
        record = ws.lineage.run(ref)
    print_result(record, run_text(record), json_out=json_out)


@runs_app.callback()
@handle_errors
def runs(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Option("--job", help="Only this job.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many.")] = 50,
    json_out: JsonOpt = False,
) -> None:
    """List recorded runs, newest first. Example: strata runs --job train --json"""
    if ctx.invoked_subcommand is not None:
        return
    from strata.lineage.report import runs_text

    with Workspace() as ws:
        found = ws.lineage.runs(job=job, limit=limit)
    print_result([r.to_dict() for r in found], runs_text(found), json_out=json_out)


@runs_app.command("show")
@handle_errors
def runs_show(ref: RefArg, json_out: JsonOpt = False) -> None:
    """One run in full. Example: strata runs show run:01JD5Z3W7Q8R9S0T1V2W3X4Y5Z"""
    _show(ref, json_out)


Direction = Literal["upstream", "downstream", "both"]


@handle_errors
@through_server
def lineage(
    ref: RefArg,
    file: Annotated[Path | None, typer.Argument(help="With `ingest`: the events file.")] = None,
    upstream: Annotated[bool, typer.Option("--upstream", help="Only upstream.")] = False,
    downstream: Annotated[bool, typer.Option("--downstream", help="Only downstream.")] = False,
    depth: Annotated[int, typer.Option("--depth", min=1, help="How many edges.")] = 1000,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="text, json, dot or mermaid.")
    ] = "text",
    json_out: JsonOpt = False,
) -> None:
    """The lineage graph around a version or range.

    Example: strata lineage table:deliveries@47 --downstream --format mermaid.
    `strata lineage ingest FILE` is `strata openlineage ingest FILE`.
    """
    if ref == "ingest":
        if file is None:
            raise UserInputError("no events file", hint="strata lineage ingest FILE")
        require_local("`strata lineage ingest`")
        _ingest(file, json_out)
        return
    if upstream and downstream:
        raise UserInputError("--upstream and --downstream together", hint="drop both for both")
    if fmt not in ("text", "json", "dot", "mermaid"):
        raise UserInputError(f"bad --format {fmt!r}", hint="use text, json, dot or mermaid")
    way: Direction = "upstream" if upstream else "downstream" if downstream else "both"
    with lineage_source() as found:
        graph = found.graph(ref, direction=way, depth=depth)
    console.print(graph.render("json" if json_out else fmt), markup=False)  # type: ignore[arg-type]


@handle_errors
@through_server
def provenance(ref: RefArg, json_out: JsonOpt = False) -> None:
    """Data → features → code → run → model → serving, for one version.

    Example: strata provenance model:delay-classifier@3 --json
    """
    from strata.lineage.report import provenance_text

    with lineage_source() as found:
        chain = found.provenance(ref)
    print_result(chain, provenance_text(chain), json_out=json_out)


@handle_errors
@through_server
def impact(
    ref: RefArg,
    suggest: Annotated[bool, typer.Option("--suggest", help="Name rollback targets.")] = False,
    archive: Annotated[bool, typer.Option("--archive", help="Archive affected models.")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (with --archive).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Everything downstream of bad data: runs, data, models and where they serve.

    Example: strata impact table:deliveries@40..52 --suggest
    """
    from strata.lineage.report import impact_text

    if archive and not reason:
        raise UserInputError("--archive needs --reason", hint='add --reason "bad rows in 40..52"')
    with lineage_source() as found:
        result = found.impact(ref, suggest=suggest, archive_reason=reason if archive else None)
    print_result(result, impact_text(result), json_out=json_out)


@handle_errors
@through_server
def compare(a: RefArg, b: RefArg, json_out: JsonOpt = False) -> None:
    """Did the data, the code, the params or the environment change?

    Example: strata compare model:delay-classifier@3 model:delay-classifier@4
    """
    from strata.lineage.report import compare_text

    with lineage_source() as found:
        result = found.compare(a, b)
    print_result(result, compare_text(result), json_out=json_out)


@handle_errors
def reproduce(
    ref: RefArg,
    into: Annotated[Path, typer.Option("--into", help="A new folder for the worktree.")],
    run_it: Annotated[bool, typer.Option("--run", help="Run it and compare.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Recreate the code, inputs, params and packages behind a version; --run reruns it.

    Example: strata reproduce model:delay-classifier@3 --into /tmp/audit --run
    """
    with Workspace() as ws:
        result = ws.lineage.reproduce(ref, into.resolve(), run=run_it)
    if json_out:
        print_json(result.to_dict())
    else:
        for warning in result.warnings:
            err_console.print(f"warning: {warning}", markup=False, soft_wrap=True)
        console.print(f"{result.run} at {result.commit[:12]} in {result.folder}", markup=False)
        for item in result.materialised:
            console.print(f"  materialised {item}", markup=False)
        for item, why in result.not_materialised.items():
            console.print(f"  NOT materialised {item}: {why}", markup=False)
        if result.command:
            console.print(f"  command: {' '.join(result.command)}", markup=False)
        if result.matches is not None:
            console.print("  reproduced: " + ("yes" if result.matches else "NO"), markup=False)
    if result.matches is False:
        raise typer.Exit(1)


@features_app.command("register")
@handle_errors
def features_register(
    name: str,
    features: Annotated[str, typer.Option("--features", help="Comma-separated names.")],
    definition: Annotated[
        Path | None, typer.Option("--definition", help="A file defining them.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """A new version of a feature set (the same content gives the same version).

    Example: strata features register delivery --features distance_km,weather
    """
    text = None
    if definition is not None:
        try:
            text = definition.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserInputError(f"cannot read {definition}: {exc}") from None
    with Workspace() as ws:
        found = ws.lineage.register_features(name, features.split(","), text)
    print_result(found, f"{found.ref}" + ("" if found.new else " (unchanged)"), json_out=json_out)


@features_app.command("list")
@handle_errors
def features_list(
    name: Annotated[str | None, typer.Argument()] = None, json_out: JsonOpt = False
) -> None:
    """Every feature set version. Example: strata features list delivery"""
    with Workspace() as ws:
        found = ws.lineage.feature_sets(name)
    print_records(found, lambda fs: f"{fs.ref}  {', '.join(fs.features)}", json_out=json_out)


@deploy_app.command("record")
@handle_errors
def deploy_record(
    model: RefArg,
    target: Annotated[str, typer.Option("--target", help="Where it serves.")],
    image: Annotated[str | None, typer.Option("--image", help="Serving image.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Record that a model version serves at a target.

    Example: strata deploy record model:clf@3 --target prod-serving --image ml-serving:2024.10.15
    """
    with Workspace() as ws:
        found = ws.lineage.record_deployment(model, target=target, image=image)
    print_result(found, f"{found.model} -> {found.target} ({found.ref})", json_out=json_out)


@deploy_app.command("list")
@handle_errors
def deploy_list(
    model: Annotated[str | None, typer.Option("--model", help="Only this version.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Recorded deployments, oldest first. Example: strata deploy list --json"""
    with Workspace() as ws:
        found = ws.lineage.deployments(model)
    print_records(
        found,
        lambda d: f"{d.deployed_at:%Y-%m-%d %H:%M}  {d.model}  {d.target}  {d.image or ''}",
        json_out=json_out,
    )


def _ingest(file: Path, json_out: bool) -> None:
    with Workspace() as ws:
        result = ws.lineage.ingest(file)
    print_result(result, f"ingested {result.ingested} events", json_out=json_out)
    if not json_out:
        for number, reason in result.rejected:
            err_console.print(f"rejected event {number}: {reason}", markup=False, soft_wrap=True)
    if result.rejected:
        raise typer.Exit(UserInputError.exit_code)


@openlineage_app.command("ingest")
@handle_errors
def openlineage_ingest(file: Path, json_out: JsonOpt = False) -> None:
    """Take OpenLineage run, job and dataset events (Spark, Airflow, dbt, Flink) into the graph.

    Example: strata openlineage ingest events.jsonl. Bad events are rejected one by one (exit
    2); the rest are stored.
    """
    _ingest(file, json_out)


@openlineage_app.command("flush")
@handle_errors
def openlineage_flush(json_out: JsonOpt = False) -> None:
    """Resend events queued while the endpoint was unreachable. Example: strata openlineage flush"""
    with Workspace() as ws:
        sent = ws.lineage.flush_events()
    print_result({"sent": sent}, f"sent {sent} queued events", json_out=json_out)


def register(root: typer.Typer) -> None:
    root.command(
        context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True}
    )(run)
    root.add_typer(runs_app, name="runs")
    for command in (lineage, provenance, impact, compare, reproduce):
        root.command()(command)
    root.add_typer(features_app, name="features")
    root.add_typer(deploy_app, name="deploy")
    root.add_typer(openlineage_app, name="openlineage")
