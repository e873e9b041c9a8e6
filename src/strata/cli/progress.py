"""The progress bar's parts: a ``Tally`` that operations report to, what it reads as, and
the live line on a terminal. Rich is imported only when a bar is shown."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from strata.cli.units import clock, human_size

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

BAR_WIDTH = 40
BAR_MIN_WIDTH = 10
SEPARATOR = " • "


class Tally:
    """A ``strata.core.progress.ProgressSink`` that counts objects and bytes done and
    expected; safe to report to from many threads. ``reading()`` says where things stand."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._lock = threading.Lock()
        self.started = now()
        self.working_since: float | None = None  # the first expect: when the rate starts
        self.last_done = self.started  # the last advance: when the rate ends, once all is done
        self.objects = 0
        self.objects_total = 0
        self.nbytes = 0
        self.bytes_total = 0

    def __call__(self, objects: int) -> None:
        self.advance(objects)

    def expect(self, objects: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            if self.working_since is None:
                self.working_since = self._now()
            self.objects_total += objects
            self.bytes_total += nbytes

    def advance(self, objects: int = 0, nbytes: int = 0) -> None:
        now = self._now()
        with self._lock:
            self.objects += objects
            self.nbytes += nbytes
            self.last_done = now

    def reading(self) -> Reading:
        with self._lock:
            objects, objects_total = self.objects, self.objects_total
            nbytes, bytes_total = self.nbytes, self.bytes_total
            since = self.started if self.working_since is None else self.working_since
            all_done = 0 < objects_total <= objects and bytes_total <= nbytes
            last_done = self.last_done
        now = self._now()
        working = max((last_done if all_done else now) - since, 1e-9)
        in_bytes = nbytes > 0 or bytes_total > 0
        return Reading(
            objects=objects,
            objects_total=_known(objects, objects_total),
            nbytes=nbytes if in_bytes else None,
            bytes_total=_known(nbytes, bytes_total) if in_bytes else None,
            object_rate=objects / working,
            byte_rate=nbytes / working if in_bytes else None,
            elapsed=now - self.started,
        )


def _known(done: int, total: int) -> int | None:
    """A total, or None while nothing is expected or more was done than expected (work
    reported by a step that told no total)."""
    return total if total > 0 and done <= total else None


@dataclass(frozen=True, slots=True)
class Reading:
    """Where the work stands: totals are None while unknown, bytes None when not reported;
    rates are per second from when the work was first expected (or the start) to now, or to
    the last advance once all the work expected is done."""

    objects: int
    objects_total: int | None
    nbytes: int | None
    bytes_total: int | None
    object_rate: float
    byte_rate: float | None
    elapsed: float

    def fraction(self) -> tuple[int, int | None]:
        """Done and total of the measure the bar fills by: bytes when their total is known."""
        if self.nbytes is not None and self.bytes_total is not None:
            return self.nbytes, self.bytes_total
        return self.objects, self.objects_total

    def time_left(self) -> float | None:
        """Seconds left at the rate so far, once the total is known."""
        done, total = self.fraction()
        if total is None:
            return None
        if done >= total:
            return 0.0
        by_bytes = self.bytes_total is not None and self.byte_rate is not None
        rate = self.byte_rate if by_bytes else self.object_rate
        return (total - done) / rate if rate else None

    def text(self, width: int | None = None) -> str:
        """``120/400 • 1.2 MiB/4.0 MiB • 3.1 MiB/s • 0:00:02 left • 0:00:01``: objects, bytes
        and the rate of bytes when bytes are reported (else of objects), time left once the
        total is known, time elapsed. Within ``width``, the elapsed time goes first, then
        the rate, then the bytes."""
        counts = f"{self.objects:,}/{_or_unknown(self.objects_total)}"
        nbytes = rate = left = ""
        if self.nbytes is not None and self.byte_rate is not None:
            total = "?" if self.bytes_total is None else human_size(self.bytes_total)
            nbytes = f"{human_size(self.nbytes)}/{total}"
            rate = f"{human_size(self.byte_rate)}/s"
        else:
            rate = f"{self.object_rate:,.0f} objects/s"
        seconds = self.time_left()
        if seconds is not None:
            left = f"{clock(math.ceil(seconds))} left"
        parts = [counts, nbytes, rate, left, clock(self.elapsed)]
        for drop in (4, 2, 1):
            line = SEPARATOR.join(part for part in parts if part)
            if width is None or len(line) <= width:
                break
            parts[drop] = ""
        return SEPARATOR.join(part for part in parts if part)


def _or_unknown(total: int | None) -> str:
    return "?" if total is None else f"{total:,}"


class _Line:
    """The bar's one line, read from the tally each time the terminal is refreshed."""

    def __init__(self, tally: Tally, description: str) -> None:
        self.tally = tally
        self.description = description

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        reading = self.tally.reading()
        status = reading.text(options.max_width - len(self.description) - BAR_MIN_WIDTH - 2)
        room = options.max_width - len(self.description) - len(status) - 2
        done, total = reading.fraction()
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        bar = ProgressBar(
            total=total,
            completed=done,
            width=max(BAR_MIN_WIDTH, min(BAR_WIDTH, room)),
            animation_time=reading.elapsed,
        )
        grid.add_row(self.description, bar, status)
        yield grid


@contextmanager
def shown(tally: Tally, description: str, console: Console) -> Iterator[None]:
    """The tally as a live line on ``console`` (a terminal), removed when done. What is printed
    to stdout meanwhile stays on stdout; stderr lines print above the bar."""
    from rich.live import Live

    with Live(
        _Line(tally, description),
        console=console,
        transient=True,
        refresh_per_second=10,
        redirect_stdout=False,
    ):
        yield
