"""MLflow's search arguments over lists Strata returns: filters, ordering and page tokens.

Filters are the common part of MLflow's search syntax: comparisons joined by ``AND``, each
``metrics.KEY``, ``params.KEY``, ``tags.KEY`` or ``attributes.NAME`` (or a bare name) against
a number or a quoted string, e.g. ``metrics.auc > 0.8 AND params.lr = '0.1'``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from strata.errors import UserInputError

T = TypeVar("T")
Lookup = Callable[[T, str, str], Any]
"""The value of (entity, "metrics"/"params"/"tags"/"attributes", key), or None."""

_COMPARISON = re.compile(
    r"\s*(?:(?P<kind>metrics?|params?|parameters?|tags?|attributes?|attr|run)\.)?"
    r"(?P<key>`[^`]+`|\"[^\"]+\"|[\w.\-]+)\s*"
    r"(?P<op><=|>=|!=|=|<|>|(?i:LIKE|ILIKE))\s*"
    r"(?P<value>'[^']*'|\"[^\"]*\"|-?[\d.]+(?:e-?\d+)?)\s*$"
)
_KINDS = {"metric": "metrics", "param": "params", "parameter": "params", "tag": "tags"}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def matching(items: Sequence[T], text: str | None, lookup: Lookup[T]) -> list[T]:
    """The items that pass the filter ``text`` (all of them for an empty filter)."""
    tests = [_comparison(part) for part in _split(text or "")]
    return [item for item in items if all(test(item, lookup) for test in tests)]


def _split(text: str) -> list[str]:
    return [part for part in re.split(r"\s+(?i:AND)\s+", text.strip()) if part.strip()]


def _comparison(text: str) -> Callable[[Any, Lookup[Any]], bool]:
    found = _COMPARISON.match(text)
    if found is None:
        raise UserInputError(f"cannot parse the filter {text!r}", hint="e.g. metrics.auc > 0.8")
    kind = (found["kind"] or "attributes").rstrip("s")
    kind = _KINDS.get(kind, "attributes")
    key = found["key"].strip('`"')
    raw = found["value"]
    value: Any = raw[1:-1] if raw[0] in "'\"" else float(raw)
    op = found["op"].upper()

    def test(item: Any, lookup: Lookup[Any]) -> bool:
        have = lookup(item, kind, key)
        if have is None:
            return False
        if op in ("LIKE", "ILIKE"):
            pattern = re.escape(str(value)).replace("%", ".*").replace("_", ".")
            flags = re.IGNORECASE if op == "ILIKE" else 0
            return re.fullmatch(pattern, str(have), flags) is not None
        if isinstance(value, float):
            try:
                return _OPS[op](float(have), value)
            except ValueError:
                return False
        return _OPS[op](str(have), value)

    return test


def ordered(items: list[T], order_by: Sequence[str], lookup: Lookup[T]) -> list[T]:
    """Sorted by each ``KEY [ASC|DESC]`` of ``order_by``, the first the most significant;
    items without the key go last."""
    for clause in reversed(order_by):
        words = clause.split()
        if not words or len(words) > 2:
            raise UserInputError(f"bad order_by {clause!r}", hint="e.g. metrics.auc DESC")
        descending = len(words) == 2 and words[1].upper() == "DESC"
        kind, _, key = words[0].rpartition(".")
        kind = _KINDS.get(kind.rstrip("s"), kind or "attributes")
        present = [i for i in items if lookup(i, kind, key) is not None]
        absent = [i for i in items if lookup(i, kind, key) is None]
        present.sort(key=lambda i: _sortable(lookup(i, kind, key)), reverse=descending)
        items = present + absent
    return items


def _sortable(value: Any) -> tuple[int, float, str]:
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def page(items: Sequence[T], max_results: int | None, token: str | None) -> tuple[list[T], str]:
    """One page of ``items`` and the token of the next ("" at the end)."""
    try:
        start = int(token) if token else 0
    except ValueError:
        raise UserInputError(f"bad page_token {token!r}") from None
    size = max_results if max_results and max_results > 0 else 1000
    chunk = list(items[start : start + size])
    more = start + size < len(items)
    return chunk, str(start + size) if more else ""
