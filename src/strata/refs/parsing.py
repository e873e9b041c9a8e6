"""The one parser of refs: ``parse_ref`` for ``KIND:NAME@SELECTOR`` (or an MLflow URI) and
``parse_selector`` for the part after ``@``; every bad input is one RefSyntaxError."""

from __future__ import annotations

from strata.errors import RefSyntaxError
from strata.refs.mlflow import MLFLOW_PREFIX, read_mlflow_uri
from strata.refs.ref import KIND_LIST, KINDS, Kind, Ref, hint_for, name_problem
from strata.refs.selector_parsing import RefProblem, check, read_selector
from strata.refs.selectors import Selector


def _parse_kind(text: str) -> Kind:
    if text in KINDS:
        return text
    if text.lower() in KINDS:
        raise RefProblem(f"kinds are lowercase: write '{text.lower()}:'")
    raise RefProblem(f"unknown kind {text!r}; known kinds are {KIND_LIST}")


def _parse_text(text: str) -> Ref:
    if not text:
        raise RefProblem("a ref can't be empty")
    if text != text.strip():
        raise RefProblem("a ref has no leading or trailing whitespace")
    if text.startswith(MLFLOW_PREFIX):
        return read_mlflow_uri(text.removeprefix(MLFLOW_PREFIX))
    kind_text, colon, rest = text.partition(":")
    if not colon:
        raise RefProblem(f"no kind; a ref starts with KIND: where KIND is one of {KIND_LIST}")
    kind = _parse_kind(kind_text)
    name, at, selector_text = rest.partition("@")
    check(name_problem(kind, name), hint=hint_for(kind))
    return Ref(kind, name, read_selector(kind, selector_text) if at else None)


def _check_expected(ref: Ref, expect: Kind | tuple[Kind, ...] | None) -> None:
    if expect is None:
        return
    kinds = (expect,) if isinstance(expect, str) else expect
    if ref.kind not in kinds:
        wanted = " or ".join(kinds)
        raise RefProblem(f"expected a {wanted} ref, not a {ref.kind} ref", hint=hint_for(kinds[0]))


def parse_ref(text: str, *, expect: Kind | tuple[Kind, ...] | None = None) -> Ref:
    """Parse ``KIND:NAME@SELECTOR`` (or an MLflow ``models:/`` URI) into a Ref.

    ``expect`` names the kind, or kinds, the caller accepts. Every bad input raises
    RefSyntaxError with a one-line message naming the text and what is wrong.
    """
    try:
        ref = _parse_text(text)
        _check_expected(ref, expect)
    except RefProblem as problem:
        raise RefSyntaxError(f"bad ref {text!r}: {problem.reason}", hint=problem.hint) from None
    return ref


def parse_selector(kind: Kind, text: str) -> Selector:
    """Parse the part after ``@`` of a ref of the given kind."""
    try:
        if kind not in KINDS:
            raise RefProblem(f"unknown kind {kind!r}; known kinds are {KIND_LIST}")
        return read_selector(kind, text)
    except RefProblem as problem:
        message = f"bad {kind} selector {text!r}: {problem.reason}"
        raise RefSyntaxError(message, hint=problem.hint) from None
