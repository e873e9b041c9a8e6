"""``strata guard check|watch|history``, ``strata drift`` and ``strata rollback``."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from strata.cli.output import JsonOpt, console, err_console, handle_errors, print_json, print_result
from strata.cli.source import server, through_server
from strata.errors import StrataError
from strata.workspace import Workspace

if TYPE_CHECKING:
    from strata.guard.check import CheckOutcome

app = typer.Typer(
    help="Roll models back by policy when serving metrics cross a threshold.\n\n"
    "Example: strata guard check --policy guard.yaml",
    no_args_is_help=True,
)
PolicyOpt = Annotated[Path, typer.Option("--policy", "-p", help="Guard policy YAML file.")]
ModelOpt = Annotated[
    list[str] | None, typer.Option("--model", "-m", help="Only this model (repeatable).")
]

_STYLE = {
    "ok": "green",
    "rolled_back": "bold red",
    "rollback_failed": "bold red",
    "alerted": "yellow",
    "no_data": "yellow",
}


def _print_outcomes(outcomes: list[dict[str, Any]]) -> None:
    """Outcomes in their JSON form (``CheckOutcome.to_json``), a line each."""
    for outcome in outcomes:
        style = _STYLE.get(outcome["outcome"], "")
        label = f"[{style}]{outcome['outcome']}[/]" if style else outcome["outcome"]
        console.print(f"{escape(outcome['model'])}: {label}: {escape(outcome['message'])}")
        for alert in outcome["alerts"]:
            console.print(f"  alert: {escape(alert)}")


def _print_objects(outcomes: list[CheckOutcome]) -> None:
    _print_outcomes([o.to_json() for o in outcomes])


def _print_json_lines(outcomes: list[CheckOutcome]) -> None:
    import json

    console.print(json.dumps([o.to_json() for o in outcomes]), markup=False, soft_wrap=True)


@app.command("check")
@handle_errors
@through_server
def check(
    policy: PolicyOpt,
    model: ModelOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what it would do.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Read the metrics once and act: roll back or alert on a breach, then cool down.

    Through a server (STRATA_SERVER), the policy is a file of the served workspace, named
    relative to it. Example: strata guard check --policy guard.yaml --dry-run
    """
    from strata.guard import load_policy

    api = server()
    if api is not None:
        body = {"policy": policy.as_posix(), "models": model, "dry_run": dry_run}
        outcomes: list[dict[str, Any]] = api.guard_check(body)
    else:
        loaded = load_policy(policy)
        ws = Workspace()
        found = ws.guard.check(loaded, base=policy.parent, dry_run=dry_run, models=model)
        outcomes = [o.to_json() for o in found]
    if json_out:
        print_json(outcomes)
    else:
        _print_outcomes(outcomes)


@app.command("watch")
@handle_errors
def watch(
    policy: PolicyOpt,
    interval: Annotated[str, typer.Option("--interval", help="Time between checks.")] = "5m",
    json_out: Annotated[bool, typer.Option("--json", help="One JSON line per check.")] = False,
) -> None:
    """Check on a schedule until stopped (Ctrl-C or SIGTERM stop it cleanly).

    A failing metric source is logged and retried; missing data never rolls back.
    Example: strata guard watch --policy guard.yaml --interval 1m
    """
    from strata.errors import UserInputError
    from strata.guard import load_policy
    from strata.guard.policy import parse_duration

    try:
        every = parse_duration(interval)
    except ValueError as exc:
        raise UserInputError(f"--interval: {exc}") from None
    load_policy(policy)  # refuse a broken policy before the first sleep
    ws = Workspace()
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    def report_error(exc: StrataError) -> None:
        err_console.print(f"check failed, retrying next time: {exc.one_line()}", markup=False)

    checks = ws.guard.watch(
        lambda: load_policy(policy),
        base=policy.parent,
        interval=every,
        stop=stop,
        report=_print_json_lines if json_out else _print_objects,
        on_error=report_error,
    )
    if not json_out:
        console.print(f"guard stopped after {checks} checks")


@app.command("history")
@handle_errors
@through_server
def history(model: ModelOpt = None, json_out: JsonOpt = False) -> None:
    """What the guard found and did: breaches, rollbacks, alerts, unreadable sources.

    Example: strata guard history --model delay-classifier
    """
    names: list[str | None] = list(model) if model else [None]
    api = server()
    if api is not None:
        events = [e for name in names for e in api.guard_events({"model": name})]
    else:
        ws = Workspace()
        events = [e.to_json() for name in names for e in ws.guard.events(name)]
    lines = (
        f"{datetime.fromisoformat(e['checked_at']).isoformat(timespec='seconds')}  "
        f"{e['model']}  {e['outcome']}  {e['message']}"
        for e in events
    )
    print_result(events, lines, json_out=json_out)


def drift(
    reference: Annotated[
        str,
        typer.Option(
            "--reference",
            help="table:NAME@V, a Parquet/CSV/JSONL file, or model:NAME@V (its kept profile).",
        ),
    ],
    current: Annotated[str, typer.Option("--current", help="table:NAME@V or a data file.")],
    columns: Annotated[
        str | None, typer.Option("--columns", help="Comma-separated columns (default: all).")
    ] = None,
    bins: Annotated[int, typer.Option("--bins", min=2, help="Quantile bins for numbers.")] = 10,
    json_out: JsonOpt = False,
) -> None:
    """Population Stability Index and null-rate change per column.

    PSI below 0.1 is stable, 0.1 to 0.25 a moderate shift, above 0.25 significant.
    Example: strata drift --reference table:deliveries@47 --current today.parquet
    """
    from strata.guard.drift import drift as compute_drift
    from strata.guard.drift import profile

    ws = Workspace()
    names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    if reference.startswith(("model:", "models:/")):
        kept = ws.references.profile(reference)
    else:
        kept = profile(ws.tables.read_data(reference), names, bins)
    results = compute_drift(kept, ws.tables.read_data(current), names)
    if json_out:
        print_json([r.to_json() for r in results])
        return
    for r in sorted(results, key=lambda r: -r.psi):
        level = "significant" if r.psi > 0.25 else "moderate" if r.psi > 0.1 else "stable"
        console.print(
            f"{r.column:24} PSI {r.psi:7.4f}  {level:11}  "
            f"nulls {r.reference_null_rate:.1%} → {r.current_null_rate:.1%}",
            markup=False,
        )


@through_server
def rollback(
    args: Annotated[
        list[str], typer.Argument(help="[check] model:NAME | table:NAME", metavar="[check] REF")
    ],
    to: Annotated[
        str | None,
        typer.Option("--to", help="Target version (models: default the previous production)."),
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why; kept in the trail.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Roll a model or a table back, or check that a model rollback would work.

    strata rollback check model:NAME   proves the target, its artifact and its training data
                                       are sound (exit 0 ready, 50 not ready);
    strata rollback model:NAME         the version that held production before comes back,
                                       after the same check;
    strata rollback table:NAME --to V  restores the table's data as a new commit.
    Example: strata rollback table:deliveries --to 46 --reason "bad join in export"
    """
    from strata.errors import UserInputError
    from strata.refs import parse_ref

    checking = args[0] == "check"
    refs = args[1:] if checking else args
    if len(refs) != 1:
        raise UserInputError(
            "name one thing to roll back", hint="e.g. strata rollback check model:delay-classifier"
        )
    ref = parse_ref(refs[0], expect=("model",) if checking else ("model", "table"))
    api = server()
    if checking:
        if api is not None:
            result: dict[str, Any] = api.readiness(f"model:{ref.name}", {"to": to})
        else:
            result = Workspace().recovery.readiness(ref.name, to=to).to_json()
        _print_readiness(ref.name, result, json_out)
        if not result["ready"]:
            raise typer.Exit(50)
        return
    if api is not None:
        done = api.roll_back(f"{ref.kind}:{ref.name}", {"to": to, "reason": reason})
    else:
        done = Workspace().recovery.roll_back(ref, to=to, reason=reason)
    print_result(done, f"rolled back {done['from']} → {done['to']}", json_out=json_out)


def _print_readiness(name: str, result: dict[str, Any], json_out: bool) -> None:
    """A readiness check in its JSON form (``Readiness.to_json``)."""
    if json_out:
        print_json(result)
        return
    verdict = "[green]ready[/]" if result["ready"] else "[bold red]not ready[/]"
    console.print(
        f"rollback of {escape(name)}: {verdict} "
        f"({escape(result['current'] or '-')} → {escape(result['target'] or '-')})"
    )
    for c in result["checks"]:
        mark = "ok  " if c["ok"] and not c["warning"] else "warn" if c["ok"] else "FAIL"
        console.print(f"  {mark} {c['what']}: {c['detail']}", markup=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="guard")
    root.command("rollback")(handle_errors(rollback))
    root.command("drift")(handle_errors(drift))
