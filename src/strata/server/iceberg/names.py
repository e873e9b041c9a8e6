"""Iceberg identifiers ↔ Strata table names, and request bodies as pyiceberg's own models.

Strata's tables sit in namespace ``default``; a dotted name is a namespace and a table:
``deliveries`` ↔ ``default.deliveries``, ``sales.orders`` ↔ ``sales.orders``,
``a.b.c`` ↔ namespace ``a.b``, table ``c``. In a URL a namespace's levels are joined by the
unit separator (``%1F``), as the spec says.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from fastapi import Body
from pydantic import BaseModel, ValidationError

from strata.server.iceberg.errors import IcebergError

DEFAULT = "default"
SEPARATOR = "\x1f"
M = TypeVar("M", bound=BaseModel)
Namespace = tuple[str, ...]
JsonBody = Annotated[dict[str, Any], Body()]  # a JSON object, parsed by ``parse``
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")  # also a safe folder name


def namespace_of(path: str) -> Namespace:
    """The namespace a URL's ``{namespace}`` names."""
    return checked(tuple(path.split(SEPARATOR)))


def checked(namespace: Namespace | list[str]) -> Namespace:
    levels = tuple(namespace)
    if not levels or not all(_NAME.fullmatch(level) for level in levels):
        raise IcebergError(
            400,
            "BadRequestException",
            f"bad namespace {list(levels)}: each level a name of letters, digits, '_' and '-'",
        )
    return levels


def strata_name(namespace: Namespace, table: str) -> str:
    """The Strata table ``namespace.table`` names."""
    if not _NAME.fullmatch(table):
        raise IcebergError(
            400,
            "BadRequestException",
            f"bad table name {table!r}: letters, digits, '_' and '-' only",
        )
    return table if namespace == (DEFAULT,) else ".".join((*namespace, table))


def identifier_of(name: str) -> tuple[Namespace, str]:
    """The namespace and table name of Strata table ``name``."""
    *namespace, table = name.split(".")
    return (tuple(namespace) or (DEFAULT,)), table


def parse(model: type[M], body: Any) -> M:
    """``body`` as ``model`` (pyiceberg's request models); a 400 saying what is wrong."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "body"
        raise IcebergError(
            400, "BadRequestException", f"bad request: {where}: {first.get('msg', 'invalid')}"
        ) from None
