"""What lineage asks of the rest of Strata, as small pluggable interfaces.

Lineage works from what it recorded itself (runs, edges by ref, feature sets, deployments).
The workspace passes in, when it has them:

- a ``Resolver`` that turns a selector that is not an exact version into one
  (``table:deliveries@latest`` → ``table:deliveries@47``, ``model:clf@production`` →
  ``model:clf@3``, ``file:data/raw`` → ``file:data/raw@1f2e3d4c5b6a``); it returns None for
  kinds it does not know;
- a ``Describer`` that adds what other capabilities know about one exact version (a table
  version's timestamp, row count and schema hash; a model version's semver, stages, aliases);
  it returns None when it knows nothing about that ref;
- a ``Materializer`` that writes one exact version of an input below a folder, for
  ``reproduce``; it returns the path written, or None for kinds it cannot materialise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from strata.refs import Ref

Resolver = Callable[[Ref], Ref | None]
Materializer = Callable[[Ref, Path], Path | None]


class Describer(Protocol):
    def describe(self, ref: Ref) -> dict[str, Any] | None:
        """What is known about ``ref`` (an exact version), or None."""
        ...


class Describers:
    """Several describers asked in turn; the first answer wins."""

    def __init__(self, describers: Sequence[Describer] = ()) -> None:
        self.describers = list(describers)

    def describe(self, ref: Ref) -> dict[str, Any] | None:
        for describer in self.describers:
            found = describer.describe(ref)
            if found is not None:
                return found
        return None
