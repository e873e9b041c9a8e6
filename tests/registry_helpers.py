"""Small builders shared by the registry tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factories import write


def artifact(folder: Path, content: str, name: str = "model.json") -> Path:
    """A model file with ``content`` (a new file each time, as a training job writes)."""
    return write(folder / "out" / name, content)


def signature(*inputs: str, outputs: tuple[str, ...] = ("y:float64",)) -> dict[str, Any]:
    """``signature("a:float64", "b:int64?")``: a trailing ``?`` marks an optional column."""

    def column(spec: str) -> dict[str, Any]:
        name, _, kind = spec.rstrip("?").partition(":")
        return {"name": name, "type": kind, "required": not spec.endswith("?")}

    return {"inputs": [column(c) for c in inputs], "outputs": [column(c) for c in outputs]}
