"""``strata demo``: the story of the product, told in a throwaway workspace.

Each capability adds a chapter. Everything runs through the Python API on the embedded
defaults (SQLite, a local cache), and prints what it does as a person would read it.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from rich.markup import escape

from strata.cli import (
    demo_guard,
    demo_lineage,
    demo_models,
    demo_pipelines,
    demo_questions,
    demo_server,
    demo_tables,
)
from strata.cli.demo_support import git
from strata.cli.output import console, human_size
from strata.errors import StrataError
from strata.workspace import Workspace


def _say(text: str) -> None:
    console.print(text)


def _chapter(number: int, title: str) -> None:
    console.print(f"\n[bold]{number}. {escape(title)}[/]")


def _write_deliveries(folder: Path, days: int, seed: int) -> None:
    """One CSV of deliveries per day: the kind of data a delay model trains on."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for day in range(1, days + 1):
        path = folder / f"2024-10-{day:02d}.csv"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["delivery_id", "distance_km", "weather", "delay_min"])
            for i in range(200):
                weather = rng.choice(["sun", "rain", "snow"])
                writer.writerow(
                    [
                        f"{day}-{i}",
                        round(rng.uniform(1, 40), 1),
                        weather,
                        max(0, int(rng.gauss(8, 6))),
                    ]
                )
        os.replace(tmp, path)  # new files replace old ones: never edit a cached file in place


def _siblings(root: Path) -> tuple[Path, Path]:
    """The demo's remote and a teammate's clone: beside the workspace, not in it."""
    return root.with_name(f"{root.name}-remote"), root.with_name(f"{root.name}-teammate")


def run_demo(*, keep: bool = False) -> None:
    root = Path(tempfile.mkdtemp(prefix="strata-demo-"))
    try:
        _story(root)
        _say(_browser_hint(root, keep))
    finally:
        if keep:
            _say(f"\nThe demo workspace is kept at {root}, beside its remote and a clone")
        else:
            for folder in (root, *_siblings(root)):
                shutil.rmtree(folder, ignore_errors=True)


def _browser_hint(root: Path, keep: bool) -> str:
    """Where to see it all as pages: the web UI of `strata server` on the kept workspace."""
    url = "http://127.0.0.1:8765/"
    if keep:
        return (
            f"\nSee it in a browser: cd {root} && strata token create ana && strata server,"
            f" then open {url} and log in with the token."
        )
    return (
        "\nSee it in a browser: run `strata demo --keep`, then in the kept workspace"
        f" `strata token create ana` and `strata server`, and open {url}"
    )


def _story(root: Path) -> None:
    _say(f"[bold]Strata demo[/] — a throwaway project in {root}")
    git(root, "init", "-q")
    ws = Workspace.init(root)
    data = root / "data" / "deliveries"

    _chapter(1, "Track a dataset")
    _write_deliveries(data, days=5, seed=1)
    [added] = ws.files.add([data])
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Deliveries, 1-5 October")
    _say(f"Added {added.path}: {added.files} files, {human_size(added.size)}.")
    _say(f"Git holds only the small pointer {added.path}.strata; the data is in the cache.")
    _say(f"Pointer: {(root / (added.path + '.strata')).read_text().splitlines()[4]}")

    _chapter(2, "The data changes")
    _write_deliveries(data, days=7, seed=2)
    (data / "2024-10-01.csv").unlink()
    [st] = ws.files.status()
    _say(
        f"strata status: {st.path} is {st.state}: {len(st.changes.added)} added, "
        f"{len(st.changes.modified)} modified, {len(st.changes.deleted)} deleted"
    )
    ws.files.add([data])
    git(root, "commit", "-q", "-am", "Deliveries, 2-7 October, re-exported")
    _say("Added the new version and committed its pointer.")

    _chapter(3, "Compare the two versions")
    for entry in ws.files.diff("HEAD~1", "HEAD"):
        _say(
            f"  {entry.change:8} {entry.path}  ({human_size(entry.old_size)} → "
            f"{human_size(entry.new_size)})"
        )

    _chapter(4, "Roll the data back to the previous version")
    ws.files.checkout(rev="HEAD~1")
    files = sorted(p.name for p in data.iterdir())
    _say(
        f"strata checkout --rev HEAD~1: the folder holds {len(files)} files again, "
        f"{files[0]} … {files[-1]}."
    )
    git(root, "commit", "-q", "-am", "Roll deliveries back to 1-5 October")
    _say("The rollback is a new commit: history keeps both versions, nothing is lost.")

    _chapter(5, "Unsaved work is never overwritten silently")
    scratch = data / "2024-10-09.csv"
    scratch.write_text("delivery_id,distance_km,weather,delay_min\n9-0,3.5,sun,4\n")
    try:
        ws.files.checkout(["file:data/deliveries@HEAD~1"])
    except StrataError as exc:
        _say(f"strata checkout file:data/deliveries@HEAD~1 refuses: {escape(exc.message)}.")
    scratch.unlink()

    _chapter(6, "Check the cache")
    result = ws.files.verify()
    _say(f"strata verify: {result.checked} objects re-hashed, {len(result.problems)} problems.")
    versions = ws.files.versions(data)
    _say(f"The metadata database remembers {len(versions)} versions of {added.path}.")

    _chapter(7, "Share through a remote")
    remote, teammate = _siblings(root)
    ws.remotes.add("shared", str(remote), default=True)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Remote: shared")
    pushed = ws.remotes.push()
    _say(
        f"strata push: {len(pushed.transferred)} objects, {human_size(pushed.bytes)} to {remote}, "
        f"packed {len(pushed.transferred)} to {pushed.packs}: one upload per pack and its index, "
        "not one per file."
    )
    git(root.parent, "clone", "-q", str(root), str(teammate))
    with Workspace(teammate) as theirs:
        theirs.remotes.pull()
        [theirs_status] = theirs.files.status()
    _say(
        f"A teammate clones the repository and runs strata pull: {theirs_status.path} is "
        f"{theirs_status.state}, every object re-hashed on arrival."
    )

    chapters: list[tuple[str, Callable[[Workspace, Callable[[str], None]], None]]] = [
        ("Versioned tables", demo_tables.chapter),
        ("The model registry", demo_models.chapter),
        ("Runs and lineage", demo_lineage.chapter),
        ("Pipelines, metrics and params", demo_pipelines.chapter),
        ("When serving goes wrong: guard, impact, rollback", demo_guard.chapter),
        (
            "Strata as a service: users, tokens, the REST API, the APIs other tools speak",
            demo_server.chapter,
        ),
        ("The four questions, one command each", demo_questions.chapter),
    ]
    for number, (title, chapter) in enumerate(chapters, start=8):
        _chapter(number, title)
        chapter(ws, _say)
    ws.close()
    _say("\n[bold]Done.[/] Every step above is a command: see `strata --help`.")
