"""Imports point downward only: shared vocabulary → storage → capabilities → API → edges."""

from __future__ import annotations

import ast
import re
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
        "strata.core",
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


MODULES = {_module_name(p): p for p in SOURCES}


def _resolved(imported: str) -> str | None:
    """The module an import names: ``strata.a.b`` itself, or the module holding name ``b``."""
    if imported in MODULES:
        return imported
    parent = imported.rpartition(".")[0]
    return parent if parent in MODULES else None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                target = _resolved(name)
                if target is not None and target != module and not module.startswith(target):
                    graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_in_a_circle() -> None:
    assert _cycles(_graph()) == []


def test_no_top_level_packages_import_in_a_circle() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        head = ".".join(module.split(".")[:2])
        packages.setdefault(head, set()).update(".".join(t.split(".")[:2]) for t in targets)
    for head, targets in packages.items():
        targets.discard(head)
        targets.discard("strata")
    assert _cycles({h: t & packages.keys() for h, t in packages.items()}) == []


def test_modules_stay_short_and_the_workspace_only_composes() -> None:
    lengths = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    assert {m: n for m, n in lengths.items() if n > 500} == {}
    assert lengths["strata.workspace"] <= 300
    below = [m for m in MODULES if (_layer_of(m) or 0) > _layer_of("strata.workspace")]  # type: ignore[operator]
    mentions = re.compile(r"\bWorkspace\b(?!Error)")
    naming = [m for m in below if mentions.search(MODULES[m].read_text(encoding="utf-8"))]
    assert naming == []
