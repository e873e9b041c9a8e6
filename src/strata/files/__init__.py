"""Versioning files and folders in place: pointers in git, contents in the cache."""

from strata.files.add import AddResult, add_paths
from strata.files.checkout import CheckoutResult, checkout
from strata.files.context import FilesContext
from strata.files.diff import DiffEntry
from strata.files.discover import Tracked, tracked_at, tracked_in_tree
from strata.files.gc import GcResult
from strata.files.pointer import POINTER_SUFFIX, Pointer
from strata.files.status import PathStatus, TreeChanges
from strata.files.verify import Problem, VerifyResult

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
