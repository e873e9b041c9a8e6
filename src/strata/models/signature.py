"""Model signatures: the input and output schema a model promises, and what breaks it.

A signature is JSON, ``{"inputs": [COLUMN...], "outputs": [COLUMN...]}`` with each column
``{"name": "distance_km", "type": "float64", "required": true}``. It is given as a file or
inferred from a sample input (and optionally output): a pandas DataFrame, a pyarrow Table or
RecordBatch, or a numpy array (a structured array gives one column per field).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from strata.errors import UserInputError

Signature = dict[str, Any]
Column = dict[str, Any]

# Spellings of one type by different libraries, mapped to one name.
_TYPE_ALIASES = {
    "double": "float64",
    "float": "float32",
    "halffloat": "float16",
    "object": "string",
    "str": "string",
    "large_string": "string",
    "utf8": "string",
    "large_utf8": "string",
    "boolean": "bool",
    "bool_": "bool",
}
_HINT = 'write {"inputs": [{"name": "x", "type": "float64", "required": true}], "outputs": [...]}'


def normalise_type(text: str) -> str:
    lowered = str(text).strip().lower()
    return _TYPE_ALIASES.get(lowered, lowered)


def _column(raw: object, where: str) -> Column:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise UserInputError(f"bad signature: a column of {where} needs a name", hint=_HINT)
    kind = raw.get("type")
    required = raw.get("required", True)
    if not isinstance(kind, str) or not kind or not isinstance(required, bool):
        raise UserInputError(
            f"bad signature: column {raw['name']!r} of {where} needs a type and a boolean "
            "'required'",
            hint=_HINT,
        )
    return {"name": raw["name"], "type": normalise_type(kind), "required": required}


def _columns(raw: object, where: str) -> list[Column]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise UserInputError(f"bad signature: {where} is a list of columns", hint=_HINT)
    columns = [_column(c, where) for c in raw]
    names = [c["name"] for c in columns]
    if len(set(names)) != len(names):
        raise UserInputError(f"bad signature: {where} names a column twice", hint=_HINT)
    return columns


def normalise(raw: object) -> Signature:
    """Check a signature given as JSON data and return its canonical form."""
    if not isinstance(raw, dict) or not set(raw) <= {"inputs", "outputs"} or "inputs" not in raw:
        raise UserInputError(
            "bad signature: expected an object with inputs and outputs", hint=_HINT
        )
    return {
        "inputs": _columns(raw.get("inputs"), "inputs"),
        "outputs": _columns(raw.get("outputs"), "outputs"),
    }


def load(path: str | Path) -> Signature:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"cannot read signature {path}: {exc.strerror}") from exc
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise UserInputError(f"signature {path} is not JSON: {exc}", hint=_HINT) from exc
    return normalise(raw)


def breaking_changes(old: Signature, new: Signature) -> list[str]:
    """Why ``new`` breaks callers of ``old`` (empty when it does not)."""
    problems: list[str] = []
    before = {c["name"]: c for c in old.get("inputs", [])}
    after = {c["name"]: c for c in new.get("inputs", [])}
    for name, column in before.items():
        if name not in after:
            problems.append(f"input {name!r} removed")
        elif after[name]["type"] != column["type"]:
            problems.append(f"input {name!r} retyped {column['type']} → {after[name]['type']}")
        elif after[name]["required"] and not column["required"]:
            problems.append(f"input {name!r} became required")
    for name, column in after.items():
        if name not in before and column["required"]:
            problems.append(f"new required input {name!r}")
    if _canonical(old.get("outputs", [])) != _canonical(new.get("outputs", [])):
        problems.append("output schema changed")
    return problems


def _canonical(columns: list[Column]) -> list[tuple[str, str, bool]]:
    return sorted((c["name"], c["type"], c["required"]) for c in columns)


def infer(inputs: object, outputs: object = None) -> Signature:
    """The signature of a sample input (and output): pandas, pyarrow or numpy data."""
    return {
        "inputs": _infer_columns(inputs, "input"),
        "outputs": [] if outputs is None else _infer_columns(outputs, "output"),
    }


def _infer_columns(sample: object, what: str) -> list[Column]:
    module = type(sample).__module__.split(".")[0]
    if module == "pandas":
        return _from_pandas(sample, what)
    if module == "pyarrow":
        return _from_arrow(sample)
    if module == "numpy":
        return _from_numpy(sample, what)
    raise UserInputError(
        f"cannot infer a signature from a {type(sample).__name__}",
        hint="pass a pandas DataFrame or Series, a pyarrow Table or a numpy array",
    )


def _from_pandas(sample: Any, what: str) -> list[Column]:
    frame = sample.to_frame(name=sample.name or what) if sample.ndim == 1 else sample
    return [
        {
            "name": str(name),
            "type": normalise_type(str(frame[name].dtype)),
            "required": not bool(frame[name].isna().any()),
        }
        for name in frame.columns
    ]


def _from_arrow(sample: Any) -> list[Column]:
    return [
        {
            "name": field.name,
            "type": normalise_type(str(field.type)),
            "required": sample.column(field.name).null_count == 0,
        }
        for field in sample.schema
    ]


def _from_numpy(sample: Any, what: str) -> list[Column]:
    if sample.dtype.names:
        return [
            {"name": name, "type": normalise_type(str(sample.dtype[name])), "required": True}
            for name in sample.dtype.names
        ]
    shape = ",".join("-1" if i == 0 else str(n) for i, n in enumerate(sample.shape))
    kind = f"tensor({normalise_type(str(sample.dtype))},[{shape}])"
    return [{"name": what, "type": kind, "required": True}]
