"""Reading the text after ``@``: which selector forms each kind accepts, tried in order.

A problem found while reading is a ``RefProblem``; ``strata.refs.parsing`` turns it into the
RefSyntaxError the caller sees, naming the whole text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Final, TypeAlias

from strata.refs.ref import SELECTOR_HELP, Kind, hint_for
from strata.refs.selectors import (
    MAX_NUMBER,
    STAGES,
    Alias,
    Latest,
    Revision,
    Selector,
    SemVer,
    Stage,
    Timestamp,
    Version,
    VersionRange,
    alias_problem,
    prerelease_problem,
    range_problem,
    revision_problem,
)

_DIGITS_RE: Final = re.compile(r"[0-9]+")
_SEMVER_RE: Final = re.compile(r"v?([0-9]+)\.([0-9]+)\.([0-9]+)(?:-(.+))?")
_SEMVER_NUMBER_RE: Final = re.compile(r"0|[1-9][0-9]*")
_TIMESTAMP_RE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?"
)


class RefProblem(Exception):
    """What is wrong with a piece of a ref; turned into a RefSyntaxError at the public edge."""

    def __init__(self, reason: str, *, hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


def check(problem: str | None, *, hint: str | None = None) -> None:
    if problem is not None:
        raise RefProblem(problem, hint=hint)


_Parser: TypeAlias = Callable[[str], Selector | None]


def try_version(text: str) -> Version | None:
    if not _DIGITS_RE.fullmatch(text):
        return None
    if len(text) > len(str(MAX_NUMBER)) or int(text) > MAX_NUMBER:
        raise RefProblem(f"version {text} is larger than {MAX_NUMBER}")
    return Version(int(text))


def try_latest(text: str) -> Latest | None:
    return Latest() if text.lower() == "latest" else None


def _try_timestamp(text: str) -> Timestamp | None:
    if not _TIMESTAMP_RE.fullmatch(text):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise RefProblem(f"{text!r} is not a valid timestamp: {exc}") from None
    return Timestamp(value)


def _try_semver(text: str) -> SemVer | None:
    match = _SEMVER_RE.fullmatch(text)
    if match is None:
        return None
    major, minor, patch, prerelease = match.groups()
    for number in (major, minor, patch):
        if not _SEMVER_NUMBER_RE.fullmatch(number):
            raise RefProblem(f"semver {text!r} has a number with a leading zero")
        if len(number) > len(str(MAX_NUMBER)) or int(number) > MAX_NUMBER:
            raise RefProblem(f"semver {text!r} has a number larger than {MAX_NUMBER}")
    check(prerelease_problem(prerelease))
    return SemVer(int(major), int(minor), int(patch), prerelease)


def try_stage(text: str) -> Stage | None:
    lowered = text.lower()
    return Stage(lowered) if lowered in STAGES else None


def _try_alias(text: str) -> Alias | None:
    return Alias(text) if alias_problem(text) is None else None


def _try_tag(text: str) -> Alias | None:
    """A table's Iceberg tag or branch name; stage names are not tags (they mean models)."""
    return None if text.lower() in STAGES else _try_alias(text)


def _try_revision(text: str) -> Revision:
    check(revision_problem(text))
    return Revision(text)


def _try_range(text: str) -> VersionRange | None:
    if ".." not in text:
        return None
    start_text, _, end_text = text.partition("..")
    start, end = _range_end(start_text), _range_end(end_text)
    check(range_problem(start, end))
    return VersionRange(start, end)


def _range_end(text: str) -> Version | Timestamp:
    end: Version | Timestamp | None = try_version(text)
    if end is None:
        end = _try_timestamp(text)
    if end is None:
        raise RefProblem(f"range end {text!r} is not a version number or an ISO timestamp")
    return end


_PARSERS: Final[dict[Kind, tuple[_Parser, ...]]] = {
    "file": (_try_revision,),
    "table": (try_latest, _try_range, try_version, _try_timestamp, _try_tag),
    "model": (try_latest, try_version, _try_semver, try_stage, _try_alias),
    "features": (try_latest, try_version),
    "run": (),
    "release": (),
    "dataset": (_try_revision,),
}


def read_selector(kind: Kind, text: str) -> Selector:
    """The selector ``text`` names for a ref of ``kind``; RefProblem, with a hint, if none."""
    try:
        return _read_selector_text(kind, text)
    except RefProblem as problem:
        problem.hint = problem.hint or hint_for(kind)
        raise


def _read_selector_text(kind: Kind, text: str) -> Selector:
    if kind in ("run", "release"):
        raise RefProblem(SELECTOR_HELP[kind])
    if not text:
        raise RefProblem("nothing after '@'; add a selector or drop the '@'")
    for parse in _PARSERS[kind]:
        selector = parse(text)
        if selector is not None:
            return selector
    raise RefProblem(SELECTOR_HELP[kind])
