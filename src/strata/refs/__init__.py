"""Refs: the one way Strata names a versioned thing, ``KIND:NAME@SELECTOR``.

One parser (``parse_ref``), one formatter (``format_ref``); every other module uses these.

    ref       = KIND ":" NAME [ "@" SELECTOR ]

    kind      name                         selector
    file      relative POSIX path          git revision or content-hash prefix (split at first @)
    table     [A-Za-z0-9][A-Za-z0-9._-]*   N | ISO-TIMESTAMP | A..B | latest
    model     [A-Za-z0-9][A-Za-z0-9._-]*   N | vX.Y.Z[-PRE] | STAGE | ALIAS | latest
    features  [A-Za-z0-9][A-Za-z0-9._-]*   N | latest
    run       [A-Za-z0-9][A-Za-z0-9_-]*    (none)
    release   [A-Za-z0-9][A-Za-z0-9._-]*   (none)
    dataset   NAMESPACE/NAME               its OpenLineage version (datasetVersion)

A dataset is one OpenLineage names (ingested from Spark, Airflow, dbt...): how its namespace
and name make one ref name, and are read back apart, is in ``strata.refs.names``.

    STAGE = none | staging | production | archived        (any case on input)
    ALIAS = [A-Za-z][A-Za-z0-9_-]*, not a stage and not "latest"
    A, B  = N | ISO-TIMESTAMP

MLflow model URIs are accepted as input and parse to model refs:
``models:/NAME/3``, ``models:/NAME/Production``, ``models:/NAME/latest``, ``models:/NAME@ALIAS``.

Formatting gives the canonical form: lowercase stages and ``latest``, semvers with a leading
``v``, timestamps as ``datetime.isoformat()`` (so a ``Z`` suffix comes back as ``+00:00``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final, Literal, TypeAlias

from strata.errors import RefSyntaxError
from strata.refs.names import MAX_PATH_LENGTH, dataset_name, path_problem, split_dataset_name

__all__ = [
    "KINDS",
    "MAX_NAME_LENGTH",
    "MAX_NUMBER",
    "MAX_PATH_LENGTH",
    "STAGES",
    "Alias",
    "Kind",
    "Latest",
    "Ref",
    "Revision",
    "Selector",
    "SemVer",
    "Stage",
    "StageName",
    "Timestamp",
    "Version",
    "VersionRange",
    "dataset_name",
    "format_ref",
    "parse_ref",
    "parse_selector",
    "split_dataset_name",
]

Kind: TypeAlias = Literal["file", "table", "model", "features", "run", "release", "dataset"]
KINDS: Final[tuple[Kind, ...]] = (
    "file", "table", "model", "features", "run", "release", "dataset",
)  # fmt: skip

StageName: TypeAlias = Literal["none", "staging", "production", "archived"]
STAGES: Final[tuple[StageName, ...]] = ("none", "staging", "production", "archived")

MAX_NAME_LENGTH: Final = 200
MAX_NUMBER: Final = 2**63 - 1  # version numbers fit a SQL BIGINT

_MLFLOW_PREFIX: Final = "models:/"
_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_RUN_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_ALIAS_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_DIGITS_RE: Final = re.compile(r"[0-9]+")
_SEMVER_RE: Final = re.compile(r"v?([0-9]+)\.([0-9]+)\.([0-9]+)(?:-(.+))?")
_SEMVER_NUMBER_RE: Final = re.compile(r"0|[1-9][0-9]*")
_PRERELEASE_PART_RE: Final = re.compile(r"0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*")
_TIMESTAMP_RE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?"
)

_KIND_LIST: Final = ", ".join(KINDS)
_STAGE_LIST: Final = ", ".join(STAGES)
_EXAMPLES: Final[dict[Kind, str]] = {
    "file": "file:data/raw/deliveries.parquet@HEAD~1",
    "table": "table:deliveries@47",
    "model": "model:delay-classifier@production",
    "features": "features:delivery@2",
    "run": "run:01JD5Z3W7Q8R9S0T1V2W3X4Y5Z",
    "release": "release:2024.10.15",
    "dataset": "dataset:s3://bucket/raw/deliveries@3",
}
_SELECTOR_HELP: Final[dict[Kind, str]] = {
    "file": "a file selector is a git revision or content-hash prefix, without whitespace",
    "table": (
        "a table selector is a version number, an ISO timestamp, a range A..B, 'latest' "
        "or an Iceberg tag or branch name"
    ),
    "model": (
        "a model selector is a version number, a semver like v1.2.0, a stage "
        f"({_STAGE_LIST}), an alias like 'champion' or 'latest'"
    ),
    "features": "a features selector is a version number or 'latest'",
    "run": "a run ref takes no selector",
    "release": "a release ref takes no selector",
    "dataset": "a dataset selector is its version as OpenLineage names it, without whitespace",
}
_MLFLOW_HELP: Final = (
    "an MLflow model URI is models:/NAME/VERSION, models:/NAME/STAGE, models:/NAME/latest "
    "or models:/NAME@ALIAS"
)


class _RefProblem(Exception):
    """What is wrong with a piece of a ref; turned into a RefSyntaxError at the public edge."""

    def __init__(self, reason: str, *, hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


def _hint_for(kind: Kind) -> str:
    return f"write {kind} refs like {_EXAMPLES[kind]}"


def _reject(what: str, problem: str | None) -> None:
    """Raise for a value object built with bad fields (the constructor path, not the parser)."""
    if problem is not None:
        raise RefSyntaxError(f"bad {what}: {problem}")


# --- value objects -------------------------------------------------------------------------


def _number_problem(number: object, what: str) -> str | None:
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
        _reject(f"version {self.number!r}", _number_problem(self.number, "a version number"))

    def __str__(self) -> str:
        return str(self.number)


def _prerelease_problem(prerelease: str | None) -> str | None:
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
            _reject(f"semver {self!s}", _number_problem(number, "each semver number"))
        _reject(f"semver {self!s}", _prerelease_problem(self.prerelease))

    def __str__(self) -> str:
        core = f"v{self.major}.{self.minor}.{self.patch}"
        return core if self.prerelease is None else f"{core}-{self.prerelease}"


@dataclass(frozen=True, slots=True)
class Stage:
    """One of MLflow's four model stages, kept lowercase: ``model:clf@production``."""

    name: StageName

    def __post_init__(self) -> None:
        if self.name not in STAGES:
            _reject(f"stage {self.name!r}", f"a stage is one of {_STAGE_LIST} (lowercase)")

    def __str__(self) -> str:
        return self.name

    @property
    def mlflow_name(self) -> str:
        """The spelling MLflow uses: ``None``, ``Staging``, ``Production``, ``Archived``."""
        return self.name.capitalize()


def _alias_problem(name: str) -> str | None:
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
        _reject(f"alias {self.name!r}", _alias_problem(self.name))

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Latest:
    """The newest version: ``table:deliveries@latest``."""

    def __str__(self) -> str:
        return "latest"


def _timestamp_problem(value: object) -> str | None:
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
        _reject(f"timestamp {self.value!r}", _timestamp_problem(self.value))

    def __str__(self) -> str:
        return self.value.isoformat()


def _range_problem(start: object, end: object) -> str | None:
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
        _reject(f"range {self.start}..{self.end}", _range_problem(self.start, self.end))

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


def _revision_problem(text: object) -> str | None:
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
        _reject(f"revision {self.text!r}", _revision_problem(self.text))

    def __str__(self) -> str:
        return self.text


Selector: TypeAlias = (
    Version | SemVer | Stage | Alias | Latest | Timestamp | VersionRange | Revision
)

_ALLOWED: Final[dict[Kind, tuple[type, ...]]] = {
    "file": (Revision,),
    "table": (Version, Timestamp, VersionRange, Latest, Alias),
    "model": (Version, SemVer, Stage, Alias, Latest),
    "features": (Version, Latest),
    "run": (),
    "release": (),
    "dataset": (Revision,),
}


@dataclass(frozen=True, slots=True)
class Ref:
    """A versioned thing: its kind, its name and, optionally, which version of it."""

    kind: Kind
    name: str
    selector: Selector | None = None

    def __post_init__(self) -> None:
        _reject(f"ref {format_ref(self)!r}", _ref_problem(self))

    def __str__(self) -> str:
        return format_ref(self)

    def with_selector(self, selector: Selector | None) -> Ref:
        """The same thing at another version (``None``: no selector)."""
        return replace(self, selector=selector)


def _ref_problem(ref: Ref) -> str | None:
    if ref.kind not in KINDS:
        return f"unknown kind {ref.kind!r}; known kinds are {_KIND_LIST}"
    problem = _name_problem(ref.kind, ref.name)
    if problem is not None or ref.selector is None:
        return problem
    return None if isinstance(ref.selector, _ALLOWED[ref.kind]) else _SELECTOR_HELP[ref.kind]


# --- names ---------------------------------------------------------------------------------


def _name_problem(kind: Kind, name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return f"a {kind} ref needs a name after '{kind}:'"
    if kind == "file":
        return path_problem(name)
    if kind == "dataset":
        try:
            split_dataset_name(name)
        except ValueError as exc:
            return str(exc)
        return None
    if len(name) > MAX_NAME_LENGTH:
        return f"a {kind} name is at most {MAX_NAME_LENGTH} characters"
    pattern, allowed = (_RUN_RE, "'_' and '-'") if kind == "run" else (_NAME_RE, "'.', '_', '-'")
    if not pattern.fullmatch(name):
        return (
            f"a {kind} name starts with a letter or digit and contains only letters, "
            f"digits and {allowed}"
        )
    return None


def _check(problem: str | None, *, hint: str | None = None) -> None:
    if problem is not None:
        raise _RefProblem(problem, hint=hint)


# --- selectors -----------------------------------------------------------------------------

_Parser: TypeAlias = Callable[[str], Selector | None]


def _try_version(text: str) -> Version | None:
    if not _DIGITS_RE.fullmatch(text):
        return None
    if len(text) > len(str(MAX_NUMBER)) or int(text) > MAX_NUMBER:
        raise _RefProblem(f"version {text} is larger than {MAX_NUMBER}")
    return Version(int(text))


def _try_latest(text: str) -> Latest | None:
    return Latest() if text.lower() == "latest" else None


def _try_timestamp(text: str) -> Timestamp | None:
    if not _TIMESTAMP_RE.fullmatch(text):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _RefProblem(f"{text!r} is not a valid timestamp: {exc}") from None
    return Timestamp(value)


def _try_semver(text: str) -> SemVer | None:
    match = _SEMVER_RE.fullmatch(text)
    if match is None:
        return None
    major, minor, patch, prerelease = match.groups()
    for number in (major, minor, patch):
        if not _SEMVER_NUMBER_RE.fullmatch(number):
            raise _RefProblem(f"semver {text!r} has a number with a leading zero")
        if len(number) > len(str(MAX_NUMBER)) or int(number) > MAX_NUMBER:
            raise _RefProblem(f"semver {text!r} has a number larger than {MAX_NUMBER}")
    _check(_prerelease_problem(prerelease))
    return SemVer(int(major), int(minor), int(patch), prerelease)


def _try_stage(text: str) -> Stage | None:
    lowered = text.lower()
    return Stage(lowered) if lowered in STAGES else None


def _try_alias(text: str) -> Alias | None:
    return Alias(text) if _alias_problem(text) is None else None


def _try_tag(text: str) -> Alias | None:
    """A table's Iceberg tag or branch name; stage names are not tags (they mean models)."""
    return None if text.lower() in STAGES else _try_alias(text)


def _try_revision(text: str) -> Revision:
    _check(_revision_problem(text))
    return Revision(text)


def _try_range(text: str) -> VersionRange | None:
    if ".." not in text:
        return None
    start_text, _, end_text = text.partition("..")
    start, end = _range_end(start_text), _range_end(end_text)
    _check(_range_problem(start, end))
    return VersionRange(start, end)


def _range_end(text: str) -> Version | Timestamp:
    end: Version | Timestamp | None = _try_version(text)
    if end is None:
        end = _try_timestamp(text)
    if end is None:
        raise _RefProblem(f"range end {text!r} is not a version number or an ISO timestamp")
    return end


_PARSERS: Final[dict[Kind, tuple[_Parser, ...]]] = {
    "file": (_try_revision,),
    "table": (_try_latest, _try_range, _try_version, _try_timestamp, _try_tag),
    "model": (_try_latest, _try_version, _try_semver, _try_stage, _try_alias),
    "features": (_try_latest, _try_version),
    "run": (),
    "release": (),
    "dataset": (_try_revision,),
}


def _parse_selector(kind: Kind, text: str) -> Selector:
    try:
        return _parse_selector_text(kind, text)
    except _RefProblem as problem:
        problem.hint = problem.hint or _hint_for(kind)
        raise


def _parse_selector_text(kind: Kind, text: str) -> Selector:
    if kind in ("run", "release"):
        raise _RefProblem(_SELECTOR_HELP[kind])
    if not text:
        raise _RefProblem("nothing after '@'; add a selector or drop the '@'")
    for parse in _PARSERS[kind]:
        selector = parse(text)
        if selector is not None:
            return selector
    raise _RefProblem(_SELECTOR_HELP[kind])


# --- refs ----------------------------------------------------------------------------------


def _parse_kind(text: str) -> Kind:
    if text in KINDS:
        return text
    if text.lower() in KINDS:
        raise _RefProblem(f"kinds are lowercase: write '{text.lower()}:'")
    raise _RefProblem(f"unknown kind {text!r}; known kinds are {_KIND_LIST}")


def _parse_text(text: str) -> Ref:
    if not text:
        raise _RefProblem("a ref can't be empty")
    if text != text.strip():
        raise _RefProblem("a ref has no leading or trailing whitespace")
    if text.startswith(_MLFLOW_PREFIX):
        return _parse_mlflow(text.removeprefix(_MLFLOW_PREFIX))
    kind_text, colon, rest = text.partition(":")
    if not colon:
        raise _RefProblem(f"no kind; a ref starts with KIND: where KIND is one of {_KIND_LIST}")
    kind = _parse_kind(kind_text)
    name, at, selector_text = rest.partition("@")
    _check(_name_problem(kind, name), hint=_hint_for(kind))
    return Ref(kind, name, _parse_selector(kind, selector_text) if at else None)


def _parse_mlflow(rest: str) -> Ref:
    try:
        return _parse_mlflow_text(rest)
    except _RefProblem as problem:
        problem.hint = problem.hint or "or write the Strata form, e.g. model:clf@production"
        raise


def _parse_mlflow_text(rest: str) -> Ref:
    name, at, alias = rest.partition("@")
    if at:
        _check(_name_problem("model", name))
        _check(_alias_problem(alias), hint="write models:/NAME@ALIAS, e.g. models:/clf@champion")
        return Ref("model", name, Alias(alias))
    name, slash, tail = rest.partition("/")
    if not slash:
        raise _RefProblem(_MLFLOW_HELP)
    _check(_name_problem("model", name))
    for parse in (_try_latest, _try_version, _try_stage):
        selector = parse(tail)
        if selector is not None:
            return Ref("model", name, selector)
    if _alias_problem(tail) is None:
        reason = f"{tail!r} is not a version, a stage or 'latest'"
        raise _RefProblem(reason, hint=f"write an alias after '@': models:/{name}@{tail}")
    raise _RefProblem(_MLFLOW_HELP)


def _check_expected(ref: Ref, expect: Kind | tuple[Kind, ...] | None) -> None:
    if expect is None:
        return
    kinds = (expect,) if isinstance(expect, str) else expect
    if ref.kind not in kinds:
        wanted = " or ".join(kinds)
        raise _RefProblem(
            f"expected a {wanted} ref, not a {ref.kind} ref", hint=_hint_for(kinds[0])
        )


def parse_ref(text: str, *, expect: Kind | tuple[Kind, ...] | None = None) -> Ref:
    """Parse ``KIND:NAME@SELECTOR`` (or an MLflow ``models:/`` URI) into a Ref.

    ``expect`` names the kind, or kinds, the caller accepts. Every bad input raises
    RefSyntaxError with a one-line message naming the text and what is wrong.
    """
    try:
        ref = _parse_text(text)
        _check_expected(ref, expect)
    except _RefProblem as problem:
        raise RefSyntaxError(f"bad ref {text!r}: {problem.reason}", hint=problem.hint) from None
    return ref


def parse_selector(kind: Kind, text: str) -> Selector:
    """Parse the part after ``@`` of a ref of the given kind."""
    try:
        if kind not in KINDS:
            raise _RefProblem(f"unknown kind {kind!r}; known kinds are {_KIND_LIST}")
        return _parse_selector(kind, text)
    except _RefProblem as problem:
        message = f"bad {kind} selector {text!r}: {problem.reason}"
        raise RefSyntaxError(message, hint=problem.hint) from None


def format_ref(ref: Ref) -> str:
    """The canonical text of a ref; ``parse_ref(format_ref(ref)) == ref``."""
    text = f"{ref.kind}:{ref.name}"
    return text if ref.selector is None else f"{text}@{ref.selector}"
