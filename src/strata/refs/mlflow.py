"""MLflow model URIs as input: ``models:/NAME/3``, ``models:/NAME/Production``,
``models:/NAME/latest`` and ``models:/NAME@ALIAS`` read as model refs."""

from __future__ import annotations

from typing import Final

from strata.refs.ref import Ref, name_problem
from strata.refs.selector_parsing import RefProblem, check, try_latest, try_stage, try_version
from strata.refs.selectors import Alias, alias_problem

MLFLOW_PREFIX: Final = "models:/"
_MLFLOW_HELP: Final = (
    "an MLflow model URI is models:/NAME/VERSION, models:/NAME/STAGE, models:/NAME/latest "
    "or models:/NAME@ALIAS"
)


def read_mlflow_uri(rest: str) -> Ref:
    """The model ref of an MLflow URI, given what follows ``models:/``; RefProblem if none."""
    try:
        return _read_mlflow_text(rest)
    except RefProblem as problem:
        problem.hint = problem.hint or "or write the Strata form, e.g. model:clf@production"
        raise


def _read_mlflow_text(rest: str) -> Ref:
    name, at, alias = rest.partition("@")
    if at:
        check(name_problem("model", name))
        check(alias_problem(alias), hint="write models:/NAME@ALIAS, e.g. models:/clf@champion")
        return Ref("model", name, Alias(alias))
    name, slash, tail = rest.partition("/")
    if not slash:
        raise RefProblem(_MLFLOW_HELP)
    check(name_problem("model", name))
    for parse in (try_latest, try_version, try_stage):
        selector = parse(tail)
        if selector is not None:
            return Ref("model", name, selector)
    if alias_problem(tail) is None:
        reason = f"{tail!r} is not a version, a stage or 'latest'"
        raise RefProblem(reason, hint=f"write an alias after '@': models:/{name}@{tail}")
    raise RefProblem(_MLFLOW_HELP)
