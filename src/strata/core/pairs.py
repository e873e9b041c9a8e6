"""Options given as text (``--tag KEY=VALUE``, ``--metric auc=0.91``), read the same
way from the command line and from a server's upload form."""

from __future__ import annotations

from collections.abc import Iterable

from strata.errors import UserInputError


def parse_pairs(items: Iterable[str] | None, what: str) -> dict[str, str]:
    """``KEY=VALUE`` items as a dict; ``what`` names the option in the error."""
    found: dict[str, str] = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise UserInputError(f"bad --{what} {item!r}", hint=f"write --{what} KEY=VALUE")
        found[key] = value
    return found


def parse_metrics(items: Iterable[str] | None) -> dict[str, float]:
    """``NAME=NUMBER`` items as a dict of floats."""
    found: dict[str, float] = {}
    for key, value in parse_pairs(items, "metric").items():
        try:
            found[key] = float(value)
        except ValueError:
            raise UserInputError(
                f"metric {key!r} is not a number: {value!r}", hint="write --metric auc=0.91"
            ) from None
    return found
