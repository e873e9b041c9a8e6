"""Semantic versions of models: ordering, bumps, ranges, and the number a new version gets.

MAJOR: the input/output contract broke (see ``signature.breaking_changes``); MINOR: a
different artifact with a compatible contract; PATCH: the same artifact bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from strata.errors import UserInputError
from strata.models.signature import breaking_changes
from strata.refs import SemVer, parse_selector

Bump = Literal["major", "minor", "patch"]
BUMPS: tuple[Bump, ...] = ("major", "minor", "patch")
FIRST = SemVer(1, 0, 0)

_COMPARATOR = re.compile(r"\s*(>=|<=|==|!=|>|<|=)?\s*(v?[0-9][^\s,]*)\s*")


def order_key(version: SemVer) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """Sort key following semver precedence: a prerelease sorts before its release."""
    pre: tuple[tuple[int, int | str], ...] = ()
    if version.prerelease is not None:
        pre = tuple(
            (0, int(part)) if part.isdigit() else (1, part)
            for part in version.prerelease.split(".")
        )
    return (version.major, version.minor, version.patch, 0 if pre else 1, pre)


def parse_semver(text: str) -> SemVer:
    selector = parse_selector("model", text if text.startswith("v") else f"v{text}")
    if not isinstance(selector, SemVer):
        raise UserInputError(f"bad semver {text!r}", hint="write it as X.Y.Z, e.g. 1.2.0")
    return selector


def bumped(previous: SemVer | None, bump: Bump) -> SemVer:
    if previous is None:
        return FIRST
    if bump == "major":
        return SemVer(previous.major + 1, 0, 0)
    if bump == "minor":
        return SemVer(previous.major, previous.minor + 1, 0)
    if previous.prerelease is not None:
        return SemVer(previous.major, previous.minor, previous.patch)
    return SemVer(previous.major, previous.minor, previous.patch + 1)


@dataclass(frozen=True, slots=True)
class Previous:
    """What a new version is compared with: the latest version of the model."""

    number: int
    semver: SemVer
    artifact_hash: str
    signature: dict[str, Any] | None


def choose(
    name: str,
    previous: Previous | None,
    highest: SemVer | None,
    *,
    artifact_hash: str,
    signature: dict[str, Any] | None,
    semver: SemVer | None,
    bump: Bump | None,
) -> tuple[SemVer, str]:
    """The semver of a new version and why it got it (shown by ``model show``)."""
    if semver is not None:
        if highest is not None and order_key(semver) <= order_key(highest):
            raise UserInputError(
                f"semver {semver} of model {name!r} does not increase: {highest} exists",
                hint=f"give a semver above {highest}, or --bump major|minor|patch",
            )
        return semver, "given with --semver"
    base = highest
    if bump is not None:
        return bumped(base, bump), f"--bump {bump} from {base or 'nothing'}"
    if previous is None or base is None:
        return FIRST, "the first version"
    kind, why = _inferred(previous, artifact_hash, signature)
    return bumped(base, kind), f"{kind.upper()} against version {previous.number}: {why}"


def _inferred(
    previous: Previous, artifact_hash: str, signature: dict[str, Any] | None
) -> tuple[Bump, str]:
    if previous.signature is not None and signature is not None:
        broken = breaking_changes(previous.signature, signature)
        if broken:
            return "major", "; ".join(broken)
    if artifact_hash == previous.artifact_hash:
        return "patch", "the same artifact bytes"
    if previous.signature is None or signature is None:
        return "minor", "a different artifact; no signature on both sides to compare"
    return "minor", "a different artifact with a compatible signature"


def range_filter(text: str) -> Callable[[SemVer], bool]:
    """A predicate from comparators such as ``>=1.0.0,<2.0.0`` (``1.2.0`` alone means ==)."""
    tests: list[Callable[[SemVer], bool]] = []
    for part in text.split(","):
        match = _COMPARATOR.fullmatch(part)
        if match is None:
            raise UserInputError(
                f"bad semver range {text!r}", hint="write comparators like '>=1.0.0,<2.0.0'"
            )
        op, bound = match.group(1) or "==", order_key(parse_semver(match.group(2)))
        tests.append(_comparison(op, bound))
    return lambda v: all(test(v) for test in tests)


def _comparison(op: str, bound: Any) -> Callable[[SemVer], bool]:
    checks: dict[str, Callable[[Any, Any], bool]] = {
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        "==": lambda a, b: a == b,
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
    }
    check = checks[op]
    return lambda v: check(order_key(v), bound)


def sort_and_page(
    rows: list[Any],
    in_range: Callable[[SemVer], bool] | None,
    sort: str,
    descending: bool,
    limit: int | None,
    offset: int,
) -> list[Any]:
    """Version rows in a semver range, sorted (``semver`` by precedence) and paginated."""

    def version_of(row: Any) -> SemVer:
        return SemVer(row.major, row.minor, row.patch, row.prerelease)

    if in_range is not None:
        rows = [r for r in rows if in_range(version_of(r))]
    keys: dict[str, Callable[[Any], Any]] = {
        "number": lambda r: r.number,
        "created": lambda r: (r.created_at, r.number),
        "semver": lambda r: order_key(version_of(r)),
    }
    return sorted(rows, key=keys[sort], reverse=descending)[offset:][:limit]
