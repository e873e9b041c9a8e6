"""Versioning files and folders in place: pointers in git, contents in the cache.

The names below load their module on first use, so ``strata status`` does not import the
code of ``add``, ``diff``, ``gc`` and ``verify``."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Loaded now: the module strata.files.checkout would otherwise shadow the function once
# imported (a submodule becomes an attribute of its package).
from strata.files.checkout import CheckoutResult, checkout

if TYPE_CHECKING:
    from strata.files.add import AddResult, add_paths
    from strata.files.context import FilesContext
    from strata.files.diff import DiffEntry
    from strata.files.discover import Tracked, tracked_at, tracked_in_tree
    from strata.files.gc import GcResult
    from strata.files.pointer import POINTER_SUFFIX, Pointer
    from strata.files.status import PathStatus, TreeChanges
    from strata.files.verify import Problem, VerifyResult

_HOMES = {
    "AddResult": "add",
    "add_paths": "add",
    "FilesContext": "context",
    "DiffEntry": "diff",
    "Tracked": "discover",
    "tracked_at": "discover",
    "tracked_in_tree": "discover",
    "GcResult": "gc",
    "POINTER_SUFFIX": "pointer",
    "Pointer": "pointer",
    "PathStatus": "status",
    "TreeChanges": "status",
    "Problem": "verify",
    "VerifyResult": "verify",
}

__all__ = [
    "POINTER_SUFFIX",
    "AddResult",
    "CheckoutResult",
    "DiffEntry",
    "FilesContext",
    "GcResult",
    "PathStatus",
    "Pointer",
    "Problem",
    "Tracked",
    "TreeChanges",
    "VerifyResult",
    "add_paths",
    "checkout",
    "tracked_at",
    "tracked_in_tree",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'strata.files' has no attribute {name!r}")
    return getattr(importlib.import_module(f"strata.files.{home}"), name)
