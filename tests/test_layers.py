"""Imports point downward only: shared vocabulary → storage → capabilities → API → edges."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import strata

SRC = Path(strata.__file__).parent

# Each layer may import itself and the layers after it in this list, never the ones before.
LAYERS: list[tuple[str, ...]] = [
    ("strata.cli", "strata.server"),
    ("strata.workspace",),
    ("strata.recovery",),
    (
        "strata.files",
        "strata.tables",
        "strata.models",
        "strata.lineage",
        "strata.guard",
        "strata.pipelines",
    ),
    ("strata.objects", "strata.meta"),
    (
        "strata.refs",
        "strata.errors",
        "strata.config",
        "strata.paths",
        "strata.scm",
        "strata.parallel",
        "strata.activity",
    ),
]
EDGE_ONLY = ("typer", "rich", "fastapi", "uvicorn")


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer_of(module: str) -> int | None:
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


SOURCES = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_downward(path: Path) -> None:
    module = _module_name(path)
    own = _layer_of(module)
    if own is None:
        return  # the package root re-exports the public API
    for imported in _imports(path):
        target = _layer_of(imported)
        assert target is None or target >= own, f"{module} imports higher layer {imported}"
        if own > 0:
            assert imported.split(".")[0] not in EDGE_ONLY, f"{module} imports {imported}"


def test_every_module_has_a_layer() -> None:
    unplaced = [
        _module_name(p)
        for p in SOURCES
        if _layer_of(_module_name(p)) is None and _module_name(p) not in ("strata",)
    ]
    assert unplaced == []
