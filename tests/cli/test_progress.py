"""Progress bars: totals, bytes, rate and time left on stderr when it is a terminal (the
command run for real under a pseudo-terminal), nothing when it is not, nothing with --quiet;
and what the bar reads from its tally, on a clock the test moves."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import termios
import threading
from pathlib import Path

import pytest

from factories import STRATA, isolate_env, make_folder, run_strata
from strata.cli.progress import Tally
from strata.core.progress import ProgressSink, advance, expect

ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][A-Z0-9])")
FILES = {f"part-{i:03d}.csv": f"{i}," + "x" * 1000 + "\n" for i in range(300)}
FOLDER_BYTES = sum(len(data) for data in FILES.values())


# -- what the bar reads -----------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bytes_give_the_rate_and_the_time_left() -> None:
    clock = Clock()
    tally = Tally(now=clock)
    clock.now = 1.0
    tally.expect(100, 1000)  # the rate counts from here
    clock.now = 11.0
    tally.advance(25, 250)
    reading = tally.reading()
    assert (reading.objects, reading.objects_total) == (25, 100)
    assert (reading.nbytes, reading.bytes_total) == (250, 1000)
    assert reading.byte_rate == 25.0
    assert reading.time_left() == 30.0
    assert reading.text() == "25/100 • 250 B/1000 B • 25 B/s • 0:00:30 left • 0:00:11"


def test_objects_alone_give_the_rate_and_the_time_left() -> None:
    clock = Clock()
    tally = Tally(now=clock)
    tally.expect(objects=10)
    clock.now = 2.0
    tally(4)  # a plain count is objects done
    reading = tally.reading()
    assert reading.nbytes is None and reading.byte_rate is None
    assert reading.time_left() == 3.0
    assert reading.text() == "4/10 • 2 objects/s • 0:00:03 left • 0:00:02"


def test_no_time_left_until_the_total_is_known() -> None:
    clock = Clock()
    tally = Tally(now=clock)
    clock.now = 5.0
    tally(5)
    assert tally.reading().text() == "5/? • 1 objects/s • 0:00:05"
    tally.expect(3)  # fewer than done: a step that told no total reported first
    assert tally.reading().time_left() is None
    assert "left" not in tally.reading().text()


def test_the_rate_stops_when_the_work_expected_is_done() -> None:
    clock = Clock()
    tally = Tally(now=clock)
    tally.expect(2, 100)
    clock.now = 4.0
    tally.advance(2, 100)
    clock.now = 50.0  # the command still finishing up: the rate is the work's own
    reading = tally.reading()
    assert reading.byte_rate == 25.0 and reading.object_rate == 0.5
    assert reading.text() == "2/2 • 100 B/100 B • 25 B/s • 0:00:00 left • 0:00:50"


def test_a_narrow_line_drops_elapsed_then_rate_then_bytes() -> None:
    clock = Clock()
    tally = Tally(now=clock)
    tally.expect(100, 1000)
    clock.now = 10.0
    tally.advance(25, 250)
    full = "25/100 • 250 B/1000 B • 25 B/s • 0:00:30 left • 0:00:10"
    assert tally.reading().text(width=len(full)) == full
    no_elapsed = "25/100 • 250 B/1000 B • 25 B/s • 0:00:30 left"
    assert tally.reading().text(width=len(full) - 1) == no_elapsed
    assert tally.reading().text(width=40) == "25/100 • 250 B/1000 B • 0:00:30 left"
    assert tally.reading().text(width=10) == "25/100 • 0:00:30 left"


def test_the_bar_fills_by_bytes_when_their_total_is_known() -> None:
    tally = Tally(now=Clock())
    tally.expect(2, 1000)
    tally.advance(1, 900)
    assert tally.reading().fraction() == (900, 1000)
    tally.expect(1)  # objects alone: still bytes
    assert tally.reading().fraction() == (900, 1000)
    plain = Tally(now=Clock())
    plain.expect(4)
    plain(1)
    assert plain.reading().fraction() == (1, 4)


def test_a_tally_is_a_progress_sink_that_counts_from_many_threads() -> None:
    tally = Tally()
    assert isinstance(tally, ProgressSink)
    expect(tally, 8 * 5000, 8 * 5000 * 3)

    def work() -> None:
        for _ in range(5000):
            advance(tally, 1, 3)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reading = tally.reading()
    assert (reading.objects, reading.objects_total) == (40000, 40000)
    assert (reading.nbytes, reading.bytes_total) == (120000, 120000)


# -- the command, for real --------------------------------------------------------------------
def strata_on_terminal(
    *args: str,
    cwd: Path,
    stream: str = "stderr",
    columns: int = 160,
    env: dict[str, str] | None = None,
) -> tuple[int, str, str]:
    """Run ``strata ARGS`` with ``stream`` (stdout or stderr) on a pseudo-terminal and the
    other on a pipe; returns the exit code, what the terminal showed (escape codes removed)
    and what the pipe got."""
    terminal, child_end = os.openpty()
    fcntl.ioctl(child_end, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, stream: child_end}
    variables = {**os.environ, "TERM": "xterm-256color"}
    for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE"):
        variables.pop(name, None)
    process = subprocess.Popen(
        [str(STRATA), *args],
        cwd=cwd,
        env={**variables, **(env or {})},
        stdin=subprocess.DEVNULL,
        **pipes,
    )
    os.close(child_end)
    shown: list[bytes] = []

    def read_terminal() -> None:
        while True:
            try:
                data = os.read(terminal, 65536)
            except OSError:  # EIO: the child's end closed
                return
            if not data:
                return
            shown.append(data)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    out, err = process.communicate(timeout=120)
    reader.join(timeout=30)
    os.close(terminal)
    piped = (err if stream == "stdout" else out).decode()
    return process.returncode, ANSI.sub("", b"".join(shown).decode(errors="replace")), piped


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace (no git) with a folder of 300 files, not added yet."""
    isolate_env(monkeypatch, tmp_path)
    assert run_strata("init", "--no-git", str(tmp_path / "ws"), cwd=tmp_path).code == 0
    make_folder(tmp_path / "ws" / "data", FILES)
    return tmp_path / "ws"


def test_add_shows_totals_bytes_rate_and_time_left_on_a_terminal(folder: Path) -> None:
    code, shown, stdout = strata_on_terminal("add", "data", cwd=folder)
    assert code == 0, shown
    assert "added data (300 files" in stdout
    total = f"{FOLDER_BYTES / 1024:.1f} KiB"
    final = re.search(
        rf"Adding .*300/300 • {re.escape(total)}/{re.escape(total)} • "
        r"[\d.]+ (B|KiB|MiB|GiB)/s • \d+:\d\d:\d\d left • \d+:\d\d:\d\d",
        shown,
    )
    assert final is not None, shown
    assert "━" in shown  # the bar itself
    assert "Adding" not in stdout  # the bar is on stderr only


def test_checkout_shows_its_total_on_a_terminal(folder: Path) -> None:
    assert run_strata("add", "data", cwd=folder).code == 0
    (folder / "data" / "part-007.csv").unlink()
    (folder / "data" / "part-008.csv").unlink()
    code, shown, _ = strata_on_terminal("checkout", "data", cwd=folder)
    assert code == 0, shown
    assert re.search(r"Checking out .*2/2 • 2\.0 KiB/2\.0 KiB • .* left", shown), shown


def test_no_bar_when_stderr_is_not_a_terminal(folder: Path) -> None:
    # Colour forced, as CI logs often have it: rich would then draw on the pipe.
    forced = {"FORCE_COLOR": "1"}
    code, shown, stderr = strata_on_terminal("add", "data", cwd=folder, stream="stdout", env=forced)
    assert code == 0, stderr
    assert stderr == ""
    assert "added data (300 files" in shown  # stdout is the terminal: the summary, no bar
    assert "Adding" not in shown and "300/300" not in shown


@pytest.mark.parametrize(
    "args", [("--quiet", "add", "data"), ("-q", "add", "data"), ("add", "data", "--quiet")]
)
def test_no_bar_with_quiet_on_a_terminal(folder: Path, args: tuple[str, ...]) -> None:
    code, shown, stdout = strata_on_terminal(*args, cwd=folder)
    assert code == 0, shown
    assert "added data (300 files" in stdout  # --quiet keeps the summary
    assert shown.strip() == ""
