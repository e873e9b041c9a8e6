"""Strata: version the files, tables and models an ML system is made of, and roll back."""

from strata.errors import StrataError
from strata.workspace import Workspace

__version__ = "0.1.0"

__all__ = ["StrataError", "Workspace", "__version__"]
