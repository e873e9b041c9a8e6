"""The Ref value object: its kinds, the names and selectors each kind allows, its canonical text.

A Ref checks itself when it is built, with the same rules the parser applies to text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final, Literal, TypeAlias

from strata.refs.names import path_problem, split_dataset_name
from strata.refs.selectors import (
    MAX_NAME_LENGTH,
    STAGE_LIST,
    Alias,
    Latest,
    Revision,
    Selector,
    SemVer,
    Stage,
    Timestamp,
    Version,
    VersionRange,
    reject,
)

Kind: TypeAlias = Literal["file", "table", "model", "features", "run", "release", "dataset"]
KINDS: Final[tuple[Kind, ...]] = (
    "file", "table", "model", "features", "run", "release", "dataset",
)  # fmt: skip
KIND_LIST: Final = ", ".join(KINDS)

_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_RUN_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")

_EXAMPLES: Final[dict[Kind, str]] = {
    "file": "file:data/raw/deliveries.parquet@HEAD~1",
    "table": "table:deliveries@47",
    "model": "model:delay-classifier@production",
    "features": "features:delivery@2",
    "run": "run:01JD5Z3W7Q8R9S0T1V2W3X4Y5Z",
    "release": "release:2024.10.15",
    "dataset": "dataset:s3://bucket/raw/deliveries@3",
}
SELECTOR_HELP: Final[dict[Kind, str]] = {
    "file": "a file selector is a git revision or content-hash prefix, without whitespace",
    "table": (
        "a table selector is a version number, an ISO timestamp, a range A..B, 'latest' "
        "or an Iceberg tag or branch name"
    ),
    "model": (
        "a model selector is a version number, a semver like v1.2.0, a stage "
        f"({STAGE_LIST}), an alias like 'champion' or 'latest'"
    ),
    "features": "a features selector is a version number or 'latest'",
    "run": "a run ref takes no selector",
    "release": "a release ref takes no selector",
    "dataset": "a dataset selector is its version as OpenLineage names it, without whitespace",
}
_ALLOWED: Final[dict[Kind, tuple[type, ...]]] = {
    "file": (Revision,),
    "table": (Version, Timestamp, VersionRange, Latest, Alias),
    "model": (Version, SemVer, Stage, Alias, Latest),
    "features": (Version, Latest),
    "run": (),
    "release": (),
    "dataset": (Revision,),
}


def hint_for(kind: Kind) -> str:
    return f"write {kind} refs like {_EXAMPLES[kind]}"


@dataclass(frozen=True, slots=True)
class Ref:
    """A versioned thing: its kind, its name and, optionally, which version of it."""

    kind: Kind
    name: str
    selector: Selector | None = None

    def __post_init__(self) -> None:
        reject(f"ref {format_ref(self)!r}", _ref_problem(self))

    def __str__(self) -> str:
        return format_ref(self)

    def with_selector(self, selector: Selector | None) -> Ref:
        """The same thing at another version (``None``: no selector)."""
        return replace(self, selector=selector)


def _ref_problem(ref: Ref) -> str | None:
    if ref.kind not in KINDS:
        return f"unknown kind {ref.kind!r}; known kinds are {KIND_LIST}"
    problem = name_problem(ref.kind, ref.name)
    if problem is not None or ref.selector is None:
        return problem
    return None if isinstance(ref.selector, _ALLOWED[ref.kind]) else SELECTOR_HELP[ref.kind]


def name_problem(kind: Kind, name: object) -> str | None:
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


def format_ref(ref: Ref) -> str:
    """The canonical text of a ref; ``parse_ref(format_ref(ref)) == ref``."""
    text = f"{ref.kind}:{ref.name}"
    return text if ref.selector is None else f"{text}@{ref.selector}"
