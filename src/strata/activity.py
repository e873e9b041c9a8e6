"""How the capabilities report what they read and wrote, so that the active run records it.

``tables/`` and ``models/`` take an ``Activity`` and call it with exact refs
(``table:deliveries@47``, never ``@latest``); ``Workspace`` hands them one that forwards to
the run in progress, if any. Capabilities never import each other: this is the seam.
"""

from __future__ import annotations

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
