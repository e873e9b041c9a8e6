"""How long operations report progress: a sink the edges (CLI bar, server, nothing) provide.

A plain ``Callable[[int], None]`` counting objects done still works everywhere a progress sink
is taken. Operations that know their totals, or move bytes, report them through a
``ProgressSink`` so the command line can show totals, bytes, rate and time left.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class ProgressSink(Protocol):
    """Told how much work there is (``expect``, which adds to the totals: a transfer may learn
    of more work as it goes) and how much is done (``advance``; calling the sink with a count
    is ``advance(objects=count)``)."""

    def __call__(self, objects: int) -> None: ...

    def expect(self, objects: int = 0, nbytes: int = 0) -> None: ...

    def advance(self, objects: int = 0, nbytes: int = 0) -> None: ...


Progress = Callable[[int], None] | ProgressSink


def no_progress(_: int) -> None:
    return None


def expect(progress: Progress, objects: int = 0, nbytes: int = 0) -> None:
    """Add to the totals of ``progress``, when it keeps totals."""
    add = getattr(progress, "expect", None)  # not isinstance: a Protocol check is slow
    if add is not None:
        add(objects, nbytes)


def advance(progress: Progress, objects: int = 0, nbytes: int = 0) -> None:
    """Report work done to ``progress``: objects, and bytes where it counts bytes."""
    step = getattr(progress, "advance", None)  # called per object: no Protocol check
    if step is not None:
        step(objects, nbytes)
    elif objects:
        progress(objects)
