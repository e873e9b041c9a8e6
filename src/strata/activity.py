"""How the capabilities report what they read and wrote, so that the active run records it.

``tables/`` and ``models/`` take an ``Activity`` and call it with exact refs
(``table:deliveries@47``, never ``@latest``); the workspace hands them one that forwards to
the run in progress, if any. Capabilities never import each other: this is the seam.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Activity(Protocol):
    def run_id(self) -> str | None:
        """The id of the run in progress (``run:ID`` without the kind), or None."""
        ...

    def read(self, ref: str) -> None:
        """``ref`` (an exact version) was read."""
        ...

    def wrote(self, ref: str) -> None:
        """``ref`` (an exact version) was written."""
        ...


class NoActivity:
    """The default: nothing records."""

    def run_id(self) -> str | None:
        return None

    def read(self, ref: str) -> None:
        pass

    def wrote(self, ref: str) -> None:
        pass


class CurrentActivity:
    """Forwards to whatever activity ``current`` returns at call time, so a part opened before
    a run starts still reports into it (and not into it after it ended)."""

    def __init__(self, current: Callable[[], Activity]) -> None:
        self._current = current

    def run_id(self) -> str | None:
        return self._current().run_id()

    def read(self, ref: str) -> None:
        self._current().read(ref)

    def wrote(self, ref: str) -> None:
        self._current().wrote(ref)
