"""The namespaces Iceberg clients create through the REST catalog, with their properties.

They are rows of pyiceberg's SQL catalog (``iceberg_namespace_properties``) under a catalog
name of their own, so they never mix with ``strata``, the namespace that holds the tables.

    spaces = IcebergNamespaces(db_url)
    spaces.create(("sales",), {"owner": "ana"})
    spaces.properties(("sales",))        # {"owner": "ana"}; None for an unknown namespace
"""

from __future__ import annotations

from functools import cache

from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NamespaceAlreadyExistsError, NoSuchNamespaceError

from strata.errors import TableExistsError, TableNotFoundError, UserInputError
from strata.meta.translate import translating
from strata.tables.iceberg_catalog import waiting

CATALOG = "strata.namespaces"
_MARKER = "exists"  # the property pyiceberg stores for a namespace created without any


@cache
def _catalog(db_url: str) -> SqlCatalog:
    return SqlCatalog(CATALOG, uri=waiting(db_url), pool_pre_ping="true")


class IcebergNamespaces:
    def __init__(self, db_url: str) -> None:
        self.db_url = db_url

    def all(self) -> list[tuple[str, ...]]:
        """Every namespace created, at every level."""
        with translating("cannot list namespaces", self.db_url):
            catalog = _catalog(self.db_url)
            found: list[tuple[str, ...]] = []
            level = catalog.list_namespaces()
            while level:
                found += level
                level = [child for parent in level for child in catalog.list_namespaces(parent)]
            return found

    def properties(self, namespace: tuple[str, ...]) -> dict[str, str] | None:
        with translating(f"cannot read namespace {'.'.join(namespace)}", self.db_url):
            try:
                stored = _catalog(self.db_url).load_namespace_properties(namespace)
            except NoSuchNamespaceError:
                return None
        return {k: v for k, v in stored.items() if k != _MARKER}

    def create(self, namespace: tuple[str, ...], properties: dict[str, str]) -> None:
        with translating(f"cannot create namespace {'.'.join(namespace)}", self.db_url):
            try:
                _catalog(self.db_url).create_namespace(namespace, properties)
            except NamespaceAlreadyExistsError as exc:
                raise TableExistsError(f"namespace {'.'.join(namespace)} exists already") from exc

    def update(
        self, namespace: tuple[str, ...], removals: set[str], updates: dict[str, str]
    ) -> tuple[list[str], list[str], list[str]]:
        """Remove and set properties (creating the namespace's row if needed): the keys
        updated, removed, and asked to be removed but missing."""
        overlap = removals & set(updates)
        if overlap:
            raise UserInputError(
                f"cannot change namespace {'.'.join(namespace)}: "
                f"{', '.join(sorted(overlap))} both removed and set"
            )
        if self.properties(namespace) is None:
            self.create(namespace, {})
        with translating(f"cannot change namespace {'.'.join(namespace)}", self.db_url):
            done = _catalog(self.db_url).update_namespace_properties(namespace, removals, updates)
        return done.updated, done.removed, done.missing

    def drop(self, namespace: tuple[str, ...]) -> None:
        with translating(f"cannot drop namespace {'.'.join(namespace)}", self.db_url):
            try:
                _catalog(self.db_url).drop_namespace(namespace)
            except NoSuchNamespaceError as exc:
                raise TableNotFoundError(f"no namespace {'.'.join(namespace)}") from exc
