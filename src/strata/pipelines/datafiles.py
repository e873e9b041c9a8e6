"""Params and metrics files: JSON, YAML or TOML by extension, loaded safely, keys dotted."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from strata.errors import PipelineFileError


def file_format(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".json"):
        return "json"
    if lower.endswith(".toml"):
        return "toml"
    return "yaml"


def load_data(name: str, data: bytes) -> Any:
    """The document in ``data`` (the contents of file ``name``); PipelineFileError naming
    the file and, where the parser knows it, the line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PipelineFileError(f"cannot parse {name}: it is not UTF-8 text") from None
    kind = file_format(name)
    if kind == "json":
        try:
            return json.loads(text)
        except RecursionError:
            raise PipelineFileError(f"cannot parse {name}: it is nested too deep") from None
        except json.JSONDecodeError as exc:
            raise PipelineFileError(f"cannot parse {name}:{exc.lineno}: {exc.msg}") from None
    if kind == "toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PipelineFileError(f"cannot parse {name}: {exc}") from None
    import yaml

    from strata.core import safe_yaml

    try:
        return safe_yaml.load(text)
    except safe_yaml.YamlTooLarge as exc:
        raise PipelineFileError(f"cannot parse {name}: refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PipelineFileError(f"cannot parse {where}: {problem}") from None


def flatten(data: object, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``{"train.lr": 0.1}``; lists and scalars are leaves."""
    if not isinstance(data, Mapping):
        return {} if not prefix else {prefix.rstrip("."): data}
    found: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            found.update(flatten(value, name + "."))
        else:
            found[name] = value
    return found


def lookup(data: object, key: str) -> Any:
    """The value at dotted ``key``; raises KeyError when there is none."""
    here: object = data
    for part in key.split("."):
        if isinstance(here, Mapping) and part in here:
            here = here[part]
        elif isinstance(here, list) and part.isdigit() and int(part) < len(here):
            here = here[int(part)]
        else:
            raise KeyError(key)
    return here


def numbers(data: object) -> dict[str, float]:
    """The numeric leaves of a metrics document, dotted (booleans are not numbers)."""
    return {
        key: float(value)
        for key, value in flatten(data).items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
