"""Plots: series read from a plots file at one or more revisions, drawn with matplotlib.

A plots file is CSV/TSV with a header, JSON or YAML: a list of records
(``[{"fpr": 0, "tpr": 0}, ...]``), or a mapping holding one such list (``{"roc": [...]}``, as
scikit-learn-based scripts often write). ``x``/``y`` pick the columns; by default x is the first
column and y the second (or the row number and the only column).

matplotlib is imported only when drawing (the ``plots`` extra), with the Agg backend.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from strata.errors import PipelineError, PipelineFileError
from strata.paths import atomic_write
from strata.pipelines.datafiles import load_data
from strata.pipelines.spec import PlotSpec

Format = Literal["png", "html"]


@dataclass(frozen=True)
class Series:
    revision: str
    x: list[float]
    y: list[float]

    def to_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "x": self.x, "y": self.y}


@dataclass(frozen=True)
class Plot:
    path: str
    x_label: str
    y_label: str
    title: str
    series: tuple[Series, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "x": self.x_label,
            "y": self.y_label,
            "title": self.title,
            "series": [s.to_dict() for s in self.series],
        }


def records(name: str, data: bytes) -> list[dict[str, Any]]:
    """The rows of a plots file."""
    if name.lower().endswith((".csv", ".tsv")):
        text = data.decode("utf-8", errors="replace")
        dialect = "excel-tab" if name.lower().endswith(".tsv") else "excel"
        return [dict(row) for row in csv.DictReader(io.StringIO(text), dialect=dialect)]
    doc = load_data(name, data)
    if isinstance(doc, Mapping):
        lists = [v for v in doc.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise PipelineFileError(f"{name} holds no single list of rows to plot")
        doc = lists[0]
    if not isinstance(doc, list) or not all(isinstance(r, Mapping) for r in doc):
        raise PipelineFileError(
            f"{name} is not a list of rows", hint='write [{"x": 0, "y": 1}, ...]'
        )
    return [dict(r) for r in doc]


def series(
    name: str, revision: str, rows: Sequence[Mapping[str, Any]], spec: PlotSpec
) -> tuple[str, str, Series]:
    """(x label, y label, the series) of ``rows``, columns chosen by ``spec``."""
    columns = list(rows[0]) if rows else []
    if spec.y is not None:
        y_col = spec.y
    elif len(columns) >= 2:
        y_col = columns[1]
    elif columns:
        y_col = columns[0]
    else:
        raise PipelineFileError(f"{name} has no rows to plot")
    x_col = spec.x if spec.x is not None else (columns[0] if len(columns) >= 2 else "step")
    xs, ys = [], []
    for index, row in enumerate(rows):
        try:
            xs.append(float(row[x_col]) if x_col in row else float(index))
            ys.append(float(row[y_col]))
        except (KeyError, TypeError, ValueError):
            raise PipelineFileError(
                f"{name} row {index + 1} has no number in column {y_col!r} or {x_col!r}",
                hint="name the columns with x: and y: in the stage's plots",
            ) from None
    return x_col, y_col, Series(revision, xs, ys)


def build(path: str, spec: PlotSpec, revisions: Mapping[str, bytes]) -> Plot:
    """One plot of ``path`` with a series per revision (label → file contents)."""
    drawn: list[Series] = []
    x_label = y_label = ""
    for revision, data in revisions.items():
        x_label, y_label, line = series(f"{path}@{revision}", revision, records(path, data), spec)
        drawn.append(line)
    return Plot(path, x_label, y_label, spec.title or path, tuple(drawn))


def render_png(plot: Plot) -> bytes:
    try:
        import matplotlib
    except ImportError:
        raise PipelineError(
            "drawing plots needs matplotlib", hint="pip install 'strata-ml[plots]'"
        ) from None
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.8), dpi=100)
    axes = figure.subplots()
    for line in plot.series:
        axes.plot(line.x, line.y, label=line.revision)
    axes.set_title(plot.title)
    axes.set_xlabel(plot.x_label)
    axes.set_ylabel(plot.y_label)
    if plot.series:
        axes.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def render_html(plots: Sequence[Plot]) -> bytes:
    """One page: each plot as an image drawn by matplotlib, and the series as JSON."""
    parts = ["<!doctype html>", '<html><head><meta charset="utf-8"><title>Strata plots</title>']
    parts.append("</head><body>")
    for plot in plots:
        image = base64.b64encode(render_png(plot)).decode("ascii")
        parts.append(f"<h2>{html.escape(plot.title)}</h2>")
        parts.append(f'<img alt="{html.escape(plot.path)}" src="data:image/png;base64,{image}">')
    data = json.dumps([p.to_dict() for p in plots]).replace("</", "<\\/")
    parts.append(f'<script type="application/json" id="strata-plot-data">{data}</script>')
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")


def write_plots(plots: Sequence[Plot], out_dir: Path, fmt: Format) -> list[Path]:
    """The files written: one PNG per plot, or one ``index.html``."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if fmt == "html":
            target = out_dir / "index.html"
            atomic_write(target, render_html(plots))
            return [target]
        written = []
        for plot in plots:
            target = out_dir / (plot.path.replace("/", "_").rsplit(".", 1)[0] + ".png")
            atomic_write(target, render_png(plot))
            written.append(target)
        return written
    except OSError as exc:
        raise PipelineError(
            f"cannot write plots to {out_dir}: {exc.strerror}",
            hint="name a writable folder with --out",
        ) from None
