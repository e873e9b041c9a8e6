"""The README's shell blocks run as shown, in order, in a scratch git repository and Strata
workspace, the way sqlite-utils tests its documentation.

Every ```sh block of README.md is one bash script; each of its commands (a line, with its
``\\`` continuations) runs in a ``set -e`` subshell and must exit 0, and a failing one is named
in the failure with its README line and output. The inputs the tour names are made below
(``prepare_inputs``) before the first block; the endpoints it names are replaced, all in one
table (``substitutions``): the S3 bucket by a bucket on the loopback S3 server, the GitHub
repository by a local one, and guard.yaml, the README's own policy block, asks a loopback port
nothing listens on instead of http://prometheus:9090 (so the guard reads no data, as designed).

Blocks fenced ```text on purpose:
- the Quickstart: ``make test`` runs this whole suite, and both targets build a ``.venv``.
The ```python blocks are fragments (``frame``, ``train_df``) and are not run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest

from factories import GIT_IDENTITY, commit_all, free_port, git, git_init, make_folder, write
from registry_helpers import signature
from s3_server import CREDENTIALS

README = Path(__file__).resolve().parents[1] / "README.md"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


# -- the README's shell blocks ----------------------------------------------------------------
@dataclass(frozen=True)
class Command:
    line: int  # 1-based line in README.md
    text: str  # as written, continuations joined


def sh_blocks(text: str) -> list[list[Command]]:
    """The commands of every ```sh block, block by block, in order."""
    blocks: list[list[Command]] = []
    current: list[Command] | None = None
    pending: tuple[int, str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if current is None:
            if stripped == "```sh":
                current = []
            continue
        if stripped == "```":
            blocks.append(current)
            current = None
            continue
        code = _without_comment(line).rstrip()
        if pending is not None:
            start, head = pending
            code = head + " " + code.strip()
        else:
            start = number
        if code.endswith("\\"):
            pending = (start, code[:-1].rstrip())
            continue
        pending = None
        if code.strip():
            current.append(Command(start, code.strip()))
    return blocks


def _without_comment(line: str) -> str:
    """The line up to a ``#`` that starts a shell comment (outside quotes)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def test_blocks_are_read_as_a_shell_reads_them() -> None:
    text = (
        "```sh\na --x \\\n    --y 'q # r'   # note\n   # only a comment\nb; c\n```\n"
        "```text\nd\n```\n"
    )
    assert sh_blocks(text) == [[Command(2, "a --x --y 'q # r'"), Command(5, "b; c")]]


def test_runnable_lines_hold_no_placeholders() -> None:
    """Options in brackets and ``...`` belong in comments, not in commands."""
    bad = [
        f"README.md:{c.line}: {c.text}"
        for block in sh_blocks(README.read_text(encoding="utf-8"))
        for c in block
        if re.search(r"\[-|\.\.\.|…", c.text)
    ]
    assert bad == []


# -- endpoints and commands replaced, visibly -------------------------------------------------
def substitutions(scratch: Scratch) -> list[tuple[str, str]]:
    """What the README names → what the test uses instead, applied to every command."""
    return [
        ("s3://bucket/", f"s3://{scratch.bucket}/"),  # the loopback S3 server, a new bucket
        ("http://127.0.0.1:9000", scratch.s3_endpoint),
        ("https://github.com/team/datasets.git", str(scratch.datasets)),  # a local repository
        # runs until stopped: SIGTERM after one check, which it takes as a clean stop
        ("strata guard watch", "timeout --preserve-status -s TERM 3 strata guard watch"),
    ]


# -- the scratch workspace --------------------------------------------------------------------
@dataclass
class Scratch:
    """The folders, endpoints and environment the blocks run with, shared block to block."""

    base: Path
    root: Path  # the workspace the README's commands run in
    datasets: Path  # the repository `strata get` and `strata import` read
    bucket: str
    s3_endpoint: str
    env: dict[str, str]
    failed_block: int | None = None


def _environment(base: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("STRATA_") and name not in ("GIT_DIR", "GIT_WORK_TREE")
    }
    env.update(GIT_IDENTITY)
    env.update(CREDENTIALS)
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",  # `strata` and `python` of this venv
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CEILING_DIRECTORIES=str(base),
        NO_COLOR="1",
        COLUMNS="200",
    )
    return env


def _deliveries(ids: range, *, day: int = 1, delay: float = 10.0) -> pa.Table:
    """Rows of the tour's deliveries: the columns its commands name."""
    import datetime

    n = len(ids)
    return pa.table(
        {
            "delivery_id": pa.array(list(ids), pa.int64()),
            "day": pa.array([datetime.date(2024, 10, day + i % 3) for i in range(n)], pa.date32()),
            "region": pa.array([("north", "south")[i % 2] for i in range(n)], pa.string()),
            "weather": pa.array([("sun", "rain", "snow")[i % 3] for i in range(n)], pa.string()),
            "distance_km": pa.array([1.5 + i % 7 for i in range(n)], pa.float64()),
            "delay_min": pa.array([delay + (i * 7) % 50 - 5 for i in range(n)], pa.float64()),
        }
    )


TRAIN_PY = """\
import json, pathlib
from strata import Workspace

pathlib.Path("models").mkdir(exist_ok=True)
pathlib.Path("models/clf.skops").write_bytes(b"a model trained with lr 0.1")
pathlib.Path("metrics.json").write_text(json.dumps({"auc": 0.92}))
roc = [{"fpr": 0.0, "tpr": 0.0}, {"fpr": 1.0, "tpr": 1.0}]
pathlib.Path("roc.json").write_text(json.dumps(roc))
with Workspace(".") as ws:
    ws.models.register("delay-classifier", "models/clf.skops", data=["table:deliveries@latest"])
"""

FEATURIZE_PY = """\
import shutil
shutil.copy("deliveries.parquet", "data/features.parquet")
"""

STRATA_YAML = """\
stages:
  featurize:
    cmd: python featurize.py
    deps: [deliveries.parquet, featurize.py]
    outs: [data/features.parquet]
"""


def _spark_events() -> str:
    run = {"runId": "0192f0a4-7c2e-7a3b-9c1d-2e3f4a5b6c7d"}
    base = {
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/spark",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": run,
        "job": {"namespace": "spark-cluster", "name": "aggregate_deliveries"},
        "inputs": [{"namespace": "s3://lake", "name": "raw/deliveries"}],
        "outputs": [{"namespace": "s3://lake", "name": "agg/delay_by_region"}],
    }
    events = [
        {**base, "eventType": "START", "eventTime": "2024-10-15T10:00:00Z"},
        {**base, "eventType": "COMPLETE", "eventTime": "2024-10-15T10:05:00Z"},
    ]
    return "".join(json.dumps(event) + "\n" for event in events)


def _readme_block(language: str, first_line: str) -> str:
    """The README's ```LANGUAGE block that starts with ``first_line``."""
    pattern = rf"```{language}\n({re.escape(first_line)}.*?)```"
    found = re.search(pattern, README.read_text(encoding="utf-8"), re.DOTALL)
    assert found, f"README.md has no ```{language} block starting {first_line!r}"
    return found.group(1)


def prepare_inputs(root: Path, prometheus: str) -> None:
    """Every input file the tour names, in the folder it runs in."""
    make_folder(
        root / "data" / "deliveries",
        {f"2024-10-0{d}.csv": f"delivery_id,delay_min\n{d},{d * 3}\n" for d in range(1, 6)},
    )
    pq.write_table(_deliveries(range(1, 201)), root / "deliveries.parquet")
    pyarrow.csv.write_csv(_deliveries(range(201, 261), day=10), root / "october.csv")
    corrections = _deliveries(range(190, 211), delay=20.0)
    corrections = corrections.append_column(
        "cancelled", pa.array([i % 5 == 0 for i in range(len(corrections))], pa.bool_())
    )
    pyarrow.csv.write_csv(corrections, root / "corrections.csv")
    fixed = _deliveries(range(1, 261), delay=5.0).to_pylist()
    for row in fixed[:4]:  # rows for `table delete` and `table update` to find
        row["weather"] = "test"
    for row in fixed[4:8]:
        row["delay_min"] = -3.0
    pq.write_table(
        pa.Table.from_pylist(fixed, schema=_deliveries(range(0)).schema), root / "fixed.parquet"
    )
    from deltalake import write_deltalake

    write_deltalake(root / "lake" / "clicks", _deliveries(range(1, 11)))  # an existing table
    pq.write_table(_deliveries(range(1, 101), delay=30.0), root / "today.parquet")
    write(root / "events.jsonl", '{"id": 1, "at": "2024-10-15T10:00:00"}\n')
    write(root / "model.skops", b"skops-like model bytes\n")
    write(root / "retrained.skops", b"skops-like model bytes, retrained\n")
    write(root / "model.json", json.dumps({"weights": [0.1, 0.2]}))
    inputs = ("distance_km:float64", "weather:string")
    write(root / "signature.json", json.dumps(signature(*inputs, outputs=("delay_min:float64",))))
    write(root / "train.py", TRAIN_PY)
    write(root / "featurize.py", FEATURIZE_PY)
    write(root / "features.py", "FEATURES = ['distance_km', 'weather']\n")
    write(root / "params.yaml", "train:\n  lr: 0.1\n")
    write(root / "strata.yaml", STRATA_YAML)
    write(root / "spark-events.jsonl", _spark_events())
    policy = _readme_block("yaml", "metrics:\n  source: prometheus")
    write(root / "guard.yaml", policy.replace("http://prometheus:9090", prometheus))


def make_datasets_repository(folder: Path, env: dict[str, str]) -> None:
    """Another Strata repository, tagged v2, whose data/raw its own folder remote holds."""
    git_init(folder)
    make_folder(folder / "data" / "raw", {f"part-{i}.csv": f"id\n{i}\n" for i in range(3)})
    script = f"""set -e
    strata init
    strata remote add storage {shlex.quote(str(folder.parent / "datasets-remote"))} --default
    strata add data/raw
    strata push
    """
    done = subprocess.run(
        ["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    commit_all(folder, "raw data")
    git(folder, "tag", "v2")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Scratch:
    import s3fs

    base = tmp_path_factory.mktemp("readme")
    env = _environment(base)
    bucket = f"strata-readme-{uuid.uuid4().hex[:8]}"
    fs = s3fs.S3FileSystem(
        endpoint_url=s3_endpoint,
        key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        secret=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        skip_instance_cache=True,
    )
    fs.mkdir(bucket)
    root = base / "ws"
    root.mkdir()
    prepare_inputs(root, prometheus=f"http://127.0.0.1:{free_port()}")  # nothing listens
    datasets = base / "datasets"
    make_datasets_repository(datasets, env)
    return Scratch(base, root, datasets, bucket, s3_endpoint, env)


# -- running a block --------------------------------------------------------------------------
MARK = "@@README@@"


def script_for(commands: list[Command], scratch: Scratch) -> str:
    """One bash script: each command in a ``set -e`` subshell, stopping at the first failure
    with the command's README line."""
    lines = ["set -u"]
    for command in commands:
        text = command.text
        for old, new in substitutions(scratch):
            text = text.replace(old, new)
        shown = shlex.quote(f"README.md:{command.line}: {command.text}")
        lines += [
            f"printf '%s %s\\n' {MARK} {shown}",
            f"( set -e\n{text}\n)",
            "rc=$?",
        ]
        lines.append(f"if [ $rc -ne 0 ]; then printf '%s exit %s\\n' {MARK} $rc; exit 1; fi")
    return "\n".join(lines) + "\n"


def failure(output: str) -> str:
    """The failing command and what it printed."""
    parts = output.split(MARK)
    if len(parts) < 3:
        return output
    return f"{parts[-2].strip()}\n(exit {parts[-1].split()[-1]})"


BLOCKS = sh_blocks(README.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "index", range(len(BLOCKS)), ids=[f"line{block[0].line}" for block in BLOCKS]
)
def test_readme_block_runs_as_shown(index: int, scratch: Scratch) -> None:
    if scratch.failed_block is not None:
        pytest.fail(f"an earlier block (#{scratch.failed_block}) failed; this one builds on it")
    done = subprocess.run(
        ["bash", "-c", script_for(BLOCKS[index], scratch)],
        cwd=scratch.root,
        env=scratch.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        scratch.failed_block = index
        pytest.fail(failure(done.stdout), pytrace=False)
