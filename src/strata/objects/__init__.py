"""Content-addressed storage: hashing, the local object store, trees and the state cache."""

from strata.objects.hashing import hash_bytes, hash_file, is_hash
from strata.objects.state import FileStat, StateCache
from strata.objects.store import ObjectStore
from strata.objects.tree import Tree, TreeEntry

__all__ = [
    "FileStat",
    "ObjectStore",
    "StateCache",
    "Tree",
    "TreeEntry",
    "hash_bytes",
    "hash_file",
    "is_hash",
]
