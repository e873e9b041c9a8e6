"""Selectors: what follows the ``@`` of a ref, one frozen value object per form.

Each checks its fields when it is built (``Version(-1)`` raises RefSyntaxError); the
``*_problem`` functions say what is wrong with a field, and the parsers in
``strata.refs.selector_parsing`` use the same ones so that both paths agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, TypeAlias

from strata.errors import RefSyntaxError

StageName: TypeAlias = Literal["none", "staging", "production", "archived"]
STAGES: Final[tuple[StageName, ...]] = ("none", "staging", "production", "archived")
STAGE_LIST: Final = ", ".join(STAGES)

MAX_NAME_LENGTH: Final = 200  # of a ref name and of an alias
MAX_NUMBER: Final = 2**63 - 1  # version numbers fit a SQL BIGINT

_ALIAS_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_PRERELEASE_PART_RE: Final = re.compile(r"0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*")


def reject(what: str, problem: str | None) -> None:
    """Raise for a value object built with bad fields (the constructor path, not the parser)."""
    if problem is not None:
        raise RefSyntaxError(f"bad {what}: {problem}")


def number_problem(number: object, what: str) -> str | None:
    if isinstance(number, bool) or not isinstance(number, int):
        return f"{what} is an integer"
    if not 0 <= number <= MAX_NUMBER:
        return f"{what} is between 0 and {MAX_NUMBER}"
    return None


@dataclass(frozen=True, slots=True)
class Version:
    """A version number: ``table:deliveries@47``."""

    number: int

    def __post_init__(self) -> None:
        reject(f"version {self.number!r}", number_problem(self.number, "a version number"))

    def __str__(self) -> str:
        return str(self.number)


def prerelease_problem(prerelease: str | None) -> str | None:
    if prerelease is None:
        return None
    parts = prerelease.split(".")
    if all(_PRERELEASE_PART_RE.fullmatch(part) for part in parts):
        return None
    return (
        f"prerelease {prerelease!r} is dot-separated [0-9A-Za-z-] identifiers, "
        "numbers without leading zeros"
    )


@dataclass(frozen=True, slots=True)
class SemVer:
    """A semantic version of a model, written ``v1.2.3`` or ``v1.2.3-rc.1``."""

    major: int
    minor: int
    patch: int
    prerelease: str | None = None

    def __post_init__(self) -> None:
        for number in (self.major, self.minor, self.patch):
            reject(f"semver {self!s}", number_problem(number, "each semver number"))
        reject(f"semver {self!s}", prerelease_problem(self.prerelease))

    def __str__(self) -> str:
        core = f"v{self.major}.{self.minor}.{self.patch}"
        return core if self.prerelease is None else f"{core}-{self.prerelease}"


@dataclass(frozen=True, slots=True)
class Stage:
    """One of MLflow's four model stages, kept lowercase: ``model:clf@production``."""

    name: StageName

    def __post_init__(self) -> None:
        if self.name not in STAGES:
            reject(f"stage {self.name!r}", f"a stage is one of {STAGE_LIST} (lowercase)")

    def __str__(self) -> str:
        return self.name

    @property
    def mlflow_name(self) -> str:
        """The spelling MLflow uses: ``None``, ``Staging``, ``Production``, ``Archived``."""
        return self.name.capitalize()


def alias_problem(name: str) -> str | None:
    if len(name) > MAX_NAME_LENGTH:
        return f"an alias is at most {MAX_NAME_LENGTH} characters"
    if not _ALIAS_RE.fullmatch(name):
        return "an alias starts with a letter and contains only letters, digits, '_' and '-'"
    if name.lower() in STAGES:
        return f"{name!r} is a stage, not an alias"
    if name.lower() == "latest":
        return "'latest' is a selector of its own, not an alias"
    return None


@dataclass(frozen=True, slots=True)
class Alias:
    """A named pointer to a model version: ``model:delay-classifier@champion``."""

    name: str

    def __post_init__(self) -> None:
        reject(f"alias {self.name!r}", alias_problem(self.name))

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Latest:
    """The newest version: ``table:deliveries@latest``."""

    def __str__(self) -> str:
        return "latest"


def timestamp_problem(value: object) -> str | None:
    if not isinstance(value, datetime):
        return "a timestamp holds a datetime"
    offset = value.utcoffset()
    if offset is not None and offset % timedelta(minutes=1):
        return "a timestamp's UTC offset is a whole number of minutes"
    return None


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A point in time, naive or with a UTC offset: ``table:deliveries@2024-09-30T23:59:59``."""

    value: datetime

    def __post_init__(self) -> None:
        reject(f"timestamp {self.value!r}", timestamp_problem(self.value))

    def __str__(self) -> str:
        return self.value.isoformat()


def range_problem(start: object, end: object) -> str | None:
    if not isinstance(start, Version | Timestamp) or not isinstance(end, Version | Timestamp):
        return "each end of a range is a version number or an ISO timestamp"
    if isinstance(start, Version) and isinstance(end, Version) and start.number > end.number:
        return f"range {start}..{end} runs backwards"
    if isinstance(start, Timestamp) and isinstance(end, Timestamp):
        if (start.value.utcoffset() is None) != (end.value.utcoffset() is None):
            return "both ends of a timestamp range have a UTC offset, or neither has"
        if start.value > end.value:
            return f"range {start}..{end} runs backwards"
    return None


@dataclass(frozen=True, slots=True)
class VersionRange:
    """The versions from ``start`` to ``end``, both included: ``table:deliveries@40..52``."""

    start: Version | Timestamp
    end: Version | Timestamp

    def __post_init__(self) -> None:
        reject(f"range {self.start}..{self.end}", range_problem(self.start, self.end))

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


def revision_problem(text: object) -> str | None:
    if not isinstance(text, str) or not text:
        return "a revision is a non-empty string"
    if any(char.isspace() or not char.isprintable() for char in text):
        return f"revision {text!r} can't contain whitespace or control characters"
    if text.startswith("-"):
        return f"revision {text!r} can't start with '-'"
    return None


@dataclass(frozen=True, slots=True)
class Revision:
    """A git revision or content-hash prefix of a file: ``file:data/x.parquet@HEAD~1``."""

    text: str

    def __post_init__(self) -> None:
        reject(f"revision {self.text!r}", revision_problem(self.text))

    def __str__(self) -> str:
        return self.text


Selector: TypeAlias = (
    Version | SemVer | Stage | Alias | Latest | Timestamp | VersionRange | Revision
)
