"""Strata: version the files, tables and models an ML system is made of, and roll back."""

from __future__ import annotations

from os import PathLike
from typing import TYPE_CHECKING, Any

from strata.errors import StrataError

if TYPE_CHECKING:
    from strata.workspace import Workspace

__version__ = "0.1.0"

__all__ = ["StrataError", "Workspace", "__version__", "load_model"]


def __getattr__(name: str) -> Any:
    """``strata.Workspace`` on first use, so ``strata --help`` does not load every capability."""
    if name == "Workspace":
        from strata.workspace import Workspace

        return Workspace
    raise AttributeError(f"module 'strata' has no attribute {name!r}")


def load_model(ref: str, *, trust: bool = False, workspace: str | PathLike[str] = ".") -> Any:
    """The model a ref names, loaded for its flavor (skops, ONNX, XGBoost, LightGBM,
    safetensors), or the path of a verified local copy: ``load_model("model:clf@production")``.
    A pickle runs code when loaded, so it needs ``trust=True``."""
    from strata.workspace import Workspace

    with Workspace(workspace) as ws:
        return ws.models.load(ref, trust=trust)
