"""``strata stage``, ``repro``, ``dag``, ``metrics``, ``params`` and ``plots``: thin over
``strata.pipelines`` and ``strata.pipelines``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from strata.cli.output import JsonOpt, console, err_console, handle_errors, print_json
from strata.errors import UserInputError
from strata.workspace import Workspace

if TYPE_CHECKING:
    from strata.pipelines.compare import DiffRow, Values
    from strata.pipelines.service import Pipelines

STDERR_FD = 2
MdOpt = Annotated[bool, typer.Option("--md", help="Print a Markdown table (for a pull request).")]
AllOpt = Annotated[bool, typer.Option("--all", help="Unchanged values too.")]
RevOpt = Annotated[list[str] | None, typer.Option("--rev", help="A git revision (repeatable).")]
BranchesOpt = Annotated[bool, typer.Option("--all-branches", help="Every branch.")]
TagsOpt = Annotated[bool, typer.Option("--all-tags", help="Every tag.")]
RevA = Annotated[str | None, typer.Argument(help="From this revision (default HEAD).")]
RevB = Annotated[str | None, typer.Argument(help="To this revision (default: the workspace).")]

stage_app = typer.Typer(
    help="Pipeline stages in strata.yaml.\n\n"
    "Example: strata stage add train --cmd 'python train.py' -d data/features.csv "
    "-p train.lr -o models/clf.json -M metrics.json",
    no_args_is_help=True,
)
plots_app = typer.Typer(
    help="Plots of series the stages write, across revisions. "
    "Example: strata plots diff main --format html",
    no_args_is_help=True,
)


# -- stages ---------------------------------------------------------------------------------
@stage_app.command("add")
@handle_errors
def stage_add(
    name: Annotated[str, typer.Argument(help="Stage name.")],
    cmd: Annotated[str, typer.Option("--cmd", "-c", help="The shell command.")],
    deps: Annotated[
        list[str] | None, typer.Option("--deps", "-d", help="Path or ref read.")
    ] = None,
    outs: Annotated[list[str] | None, typer.Option("--outs", "-o", help="Output path.")] = None,
    params: Annotated[
        list[str] | None, typer.Option("--params", "-p", help="KEY or FILE:KEY used.")
    ] = None,
    metrics: Annotated[
        list[str] | None, typer.Option("--metrics", "-M", help="Metrics file written.")
    ] = None,
    plots: Annotated[list[str] | None, typer.Option("--plots", help="Plots file written.")] = None,
    wdir: Annotated[str | None, typer.Option("--wdir", "-w", help="Run the command here.")] = None,
    desc: Annotated[str | None, typer.Option("--desc", help="What the stage does.")] = None,
    frozen: Annotated[bool, typer.Option("--frozen", help="Never rerun it.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace a stage of that name.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write a stage into strata.yaml (checked, written atomically).

    Example: strata stage add featurize --cmd 'python featurize.py' -d table:deliveries@latest
    -d featurize.py -p featurize.window -o data/features.csv
    """
    from strata.pipelines.editor import add_stage, stage_doc
    from strata.pipelines.repro import read_workspace_file

    doc = stage_doc(
        cmd=cmd,
        deps=deps or (),
        params=params or (),
        outs=outs or (),
        metrics=metrics or (),
        plots=plots or (),
        wdir=wdir,
        desc=desc,
        frozen=frozen,
    )
    with Workspace() as ws:
        stage = add_stage(ws.root, name, doc, read_workspace_file(ws.root), force=force)
    if json_out:
        print_json(stage.to_dict())
    else:
        err_console.print(f"Added stage {stage.name} to strata.yaml", markup=False)


@stage_app.command("list")
@handle_errors
def stage_list(json_out: JsonOpt = False) -> None:
    """The stages, in the order they run. Example: strata stage list --json"""
    from strata.pipelines import StageGraph

    with Workspace() as ws:
        graph = StageGraph.build(ws.pipelines.load())
    stages = graph.order()
    if json_out:
        print_json([s.to_dict() for s in stages])
        return
    for stage in stages:
        desc = f"  # {stage.desc}" if stage.desc else ""
        console.print(f"{stage.name}: {stage.cmd}{desc}", markup=False)


def repro(
    stages: Annotated[list[str] | None, typer.Argument(help="Stages (default: all).")] = None,
    force: Annotated[bool, typer.Option("--force", "-f", help="Rerun even if unchanged.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would run; run nothing.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Run the pipeline stages whose command, dependencies or params changed.

    Example: strata repro train --dry-run. Each stage runs as a recorded run; strata.lock is
    written after each stage, so Ctrl-C or a failure keeps what finished.
    """

    def say(text: str) -> None:
        err_console.print(text, markup=False)

    with Workspace() as ws:
        result = ws.pipelines.repro(
            stages or (),
            force=force,
            dry_run=dry_run,
            announce=say,
            stage_output=STDERR_FD if json_out else None,  # keep stdout for the JSON
        )
    if json_out:
        print_json(result.to_dict())
        return
    for outcome in result.stages:
        why = f" ({', '.join(outcome.reasons)})" if outcome.reasons else ""
        console.print(f"{outcome.name}: {outcome.action}{why}", markup=False)


def dag(
    fmt: Annotated[str, typer.Option("--format", "-f", help="text, dot or mermaid.")] = "text",
    json_out: JsonOpt = False,
) -> None:
    """The stage graph. Example: strata dag --format mermaid"""
    from strata.pipelines import StageGraph

    if fmt not in ("text", "dot", "mermaid"):
        raise UserInputError(f"bad --format {fmt!r}", hint="use text, dot or mermaid")
    with Workspace() as ws:
        graph = StageGraph.build(ws.pipelines.load())
    if json_out:
        print_json({"stages": list(graph.stages), "edges": [list(e) for e in graph.edges()]})
        return
    console.print(graph.render(fmt), markup=False)  # type: ignore[arg-type]


# -- metrics and params ---------------------------------------------------------------------
def _revisions(
    ws: Workspace, revs: list[str] | None, branches: bool, tags: bool
) -> list[str | None]:
    from strata.pipelines.compare import Revisions

    source = Revisions(ws.root, ws.git)
    chosen: list[str | None] = []
    if branches:
        chosen += source.branches()
    if tags:
        chosen += source.tags()
    chosen += revs or []
    for rev in chosen:
        if rev is not None:
            source.commit(rev)  # an unknown revision fails here, before anything is read
    return chosen or [None]


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return format(value, ".6g")
    return str(value)


def _change(row: DiffRow) -> str:
    change = row.change
    if change is None:
        return "-" if row.old == row.new else "changed"
    return format(change, "+.6g")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> None:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        console.print("\n".join(lines), markup=False)
        return
    from rich.table import Table

    table = Table(*headers, box=None, pad_edge=False)
    for row in rows:
        table.add_row(*row)
    console.print(table, markup=False)


def _show(found: dict[str, Values], json_out: bool, md: bool, what: str) -> None:
    if json_out:
        print_json(found)
        return
    rows = [
        [rev, path, key, _value(value)]
        for rev, files in found.items()
        for path, values in files.items()
        for key, value in values.items()
    ]
    if not rows:
        err_console.print(f"no {what} found", markup=False)
        return
    _table(["Revision", "Path", what.rstrip("s").capitalize(), "Value"], rows, md)


def _diff(rows: list[DiffRow], a: str | None, b: str | None, json_out: bool, md: bool) -> None:
    if json_out:
        print_json([r.to_dict() for r in rows])
        return
    if not rows:
        err_console.print("no differences", markup=False)
        return
    old, new = a or "HEAD", b or "workspace"
    table = [[r.path, r.key, _value(r.old), _value(r.new), _change(r)] for r in rows]
    _table(["Path", "Key", old, new, "Change"], table, md)


def _compare_app(
    what: str,
    help_text: str,
    show: Callable[[Pipelines, list[str | None]], dict[str, Values]],
    diff: Callable[[Pipelines, str | None, str | None, bool], list[DiffRow]],
    docs: tuple[str, str],
) -> typer.Typer:
    """The ``show`` and ``diff`` commands of one kind of recorded values (metrics, params):
    ``show`` reads them at revisions, ``diff`` compares two; ``docs`` is their help."""
    compare_app = typer.Typer(help=help_text, no_args_is_help=True)

    def show_values(
        rev: RevOpt = None,
        all_branches: BranchesOpt = False,
        all_tags: TagsOpt = False,
        json_out: JsonOpt = False,
        md: MdOpt = False,
    ) -> None:
        with Workspace() as ws:
            found = show(ws.pipelines, _revisions(ws, rev, all_branches, all_tags))
        _show(found, json_out, md, what)

    def diff_values(
        a: RevA = None,
        b: RevB = None,
        all_: AllOpt = False,
        json_out: JsonOpt = False,
        md: MdOpt = False,
    ) -> None:
        with Workspace() as ws:
            rows = diff(ws.pipelines, a, b, all_)
        _diff(rows, a, b, json_out, md)

    show_values.__doc__, diff_values.__doc__ = docs
    compare_app.command("show")(handle_errors(show_values))
    compare_app.command("diff")(handle_errors(diff_values))
    return compare_app


metrics_app = _compare_app(
    "metrics",
    "Metrics the stages write, across revisions. Example: strata metrics diff main",
    lambda pipelines, revs: pipelines.metrics_show(revs),
    lambda pipelines, a, b, everything: pipelines.metrics_diff(a, b, everything=everything),
    (
        """The metrics files' values, now or at revisions.

        Example: strata metrics show --all-branches --md
        """,
        """Old, new and change per metric between revisions, or between model versions.

        Example: strata metrics diff main feature/weather-features;
        strata metrics diff model:delay-classifier@3 model:delay-classifier@4
        """,
    ),
)
params_app = _compare_app(
    "params",
    "Params the stages use, across revisions. Example: strata params diff main "
    "feature/weather-features",
    lambda pipelines, revs: pipelines.params_show(revs),
    lambda pipelines, a, b, everything: pipelines.params_diff(a, b, everything=everything),
    (
        "The params the stages use, now or at revisions. Example: strata params show --rev main",
        """Params that differ between revisions.

        Example: strata params diff main feature/weather-features
        """,
    ),
)


# -- plots ----------------------------------------------------------------------------------
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder to write into.")]
FormatOpt = Annotated[str, typer.Option("--format", help="png or html.")]
PathsOpt = Annotated[list[str] | None, typer.Option("--path", help="Plots file (repeatable).")]


def _plots(
    revs: list[str | None],
    ws: Workspace,
    paths: list[str] | None,
    out: Path,
    fmt: str,
    json_out: bool,
) -> None:
    from strata.pipelines.plots import write_plots

    if fmt not in ("png", "html"):
        raise UserInputError(f"bad --format {fmt!r}", hint="use png or html")
    drawn = ws.pipelines.plots(revs, paths or [])
    written = write_plots(drawn, out, fmt)  # type: ignore[arg-type]
    if json_out:
        print_json({"files": [str(p) for p in written], "plots": [p.to_dict() for p in drawn]})
        return
    for path in written:
        console.print(str(path), markup=False)


@plots_app.command("show")
@handle_errors
def plots_show(
    rev: RevOpt = None,
    path: PathsOpt = None,
    out: OutOpt = Path("strata_plots"),
    fmt: FormatOpt = "png",
    json_out: JsonOpt = False,
) -> None:
    """Draw the plots files, now or at revisions.

    Example: strata plots show --rev main --rev HEAD --format html
    """
    with Workspace() as ws:
        _plots(_revisions(ws, rev, False, False), ws, path, out, fmt, json_out)


@plots_app.command("diff")
@handle_errors
def plots_diff(
    a: RevA = None,
    b: RevB = None,
    path: PathsOpt = None,
    out: OutOpt = Path("strata_plots"),
    fmt: FormatOpt = "png",
    json_out: JsonOpt = False,
) -> None:
    """Draw each plots file at two revisions (default HEAD and the workspace) on one chart.

    Example: strata plots diff main --format html
    """
    with Workspace() as ws:
        first = _revisions(ws, [a or "HEAD"], False, False)
        second = [None] if b is None else _revisions(ws, [b], False, False)
        _plots([*first, *second], ws, path, out, fmt, json_out)


def register(app: typer.Typer) -> None:
    app.add_typer(stage_app, name="stage")
    app.command("repro")(handle_errors(repro))
    app.command("dag")(handle_errors(dag))
    app.add_typer(metrics_app, name="metrics")
    app.add_typer(params_app, name="params")
    app.add_typer(plots_app, name="plots")
