"""MLflow's request arguments: a JSON body (POST, PATCH, DELETE) or a query string (GET),
checked by one pydantic model per endpoint either way.

    @router.post("/runs/get")
    def get_run(caller: CallerDep, args: Annotated[GetRun, args_of(GetRun)]) -> ...
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from strata.errors import UserInputError


class Args(BaseModel):
    """An endpoint's arguments; fields the client sends that Strata does not use are ignored
    (MLflow clients send ``run_uuid`` beside ``run_id``, and more with every release)."""

    model_config = ConfigDict(extra="ignore")


class KeyValue(Args):
    key: str
    value: str = ""

    def pair(self) -> tuple[str, str]:
        return self.key, self.value


class RunId(Args):
    run_id: str = ""
    run_uuid: str = ""

    def id(self) -> str:
        return self.run_id or self.run_uuid


M = TypeVar("M", bound="Args")


def args_of(model: type[M]) -> Any:
    """A dependency that parses the request's arguments into ``model``."""

    async def parse(request: Request) -> M:
        raw = await _raw(request)
        try:
            return model.model_validate(_lists_where_wanted(model, raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ())) or "body"
            raise UserInputError(f"bad request: {where}: {first.get('msg', 'invalid')}") from None

    dependency: Callable[[Request], Coroutine[Any, Any, M]] = parse
    return Depends(dependency)


async def _raw(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        query = request.query_params
        return {k: (vs if len(vs := query.getlist(k)) > 1 else vs[0]) for k in query}
    body = await request.body()
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserInputError(f"malformed JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise UserInputError("the request body is not a JSON object")
    return parsed


def _lists_where_wanted(model: type[Args], raw: dict[str, Any]) -> dict[str, Any]:
    """A query string's single value for a list field (``experiment_ids=1``) as a list."""
    for name, field in model.model_fields.items():
        if typing.get_origin(field.annotation) is list and isinstance(raw.get(name), str):
            raw[name] = [raw[name]]
    return raw
