"""Running work on threads, and stopping it at a safe point when the user cancels.

A Ctrl-C that raises KeyboardInterrupt at an arbitrary point can land inside a thread pool's
own locking and leave it deadlocked. The command line therefore installs a SIGINT handler that
only calls ``request_cancel()``; work started through ``parallel_map`` checks the flag before
each item and stops between items, then raises KeyboardInterrupt from a safe place. A second
Ctrl-C interrupts at once.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar, cast

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")

_cancelled = threading.Event()


class Cancelled(KeyboardInterrupt):
    """Raised between items once cancellation was requested."""


def request_cancel() -> None:
    if _cancelled.is_set():
        raise KeyboardInterrupt
    _cancelled.set()


def reset_cancel() -> None:
    _cancelled.clear()


def check_cancelled() -> None:
    if _cancelled.is_set():
        raise Cancelled


def parallel_map(func: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R]:
    """``[func(i) for i in items]`` on up to ``jobs`` threads, in order, cancellable."""

    def guarded(item: T) -> R:
        check_cancelled()
        return func(item)

    if jobs <= 1 or len(items) <= 1:
        return [guarded(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(min(jobs, len(items)))
    try:
        futures = [pool.submit(guarded, item) for item in items]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def in_order(func: Callable[[T], R], items: Iterator[T], window: int) -> Iterator[R]:
    """``func`` of each item, in order, with up to ``window`` calls running at once on
    threads: at most ``window`` results are held, however many items there are."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(window)
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(func, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)


class Background(Generic[R]):
    """``func()`` started on a thread of its own, for work that can overlap the caller's
    (opening a database while files are copied). ``result()`` waits for it and returns its
    value, or raises on the caller's thread what it raised."""

    def __init__(self, func: Callable[[], R], name: str) -> None:
        self._func = func
        self._value: R | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._func()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> R:
        self.wait()
        if self._error is not None:
            raise self._error
        return cast(R, self._value)
