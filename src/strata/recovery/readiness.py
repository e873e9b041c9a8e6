"""Proof that a rollback would work, before it is made.

A rollback is only as good as its target. ``RollbackTargets.readiness`` checks, without
changing anything, that the version a rollback would put back exists, that its artifact objects
are in the cache and match their hashes (or at least are on the remote), and that the data
versions it was trained on are still readable and pinned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.errors import StrataError
from strata.refs import parse_ref

if TYPE_CHECKING:
    from strata.meta import FileVersion
    from strata.models import Registry
    from strata.models.records import ModelVersion
    from strata.objects import ObjectStore
    from strata.objects.remote import Remote
    from strata.tables import TableCatalog


@dataclass(frozen=True)
class Check:
    """One prerequisite of a rollback, met or not, and why."""

    what: str
    ok: bool
    detail: str
    warning: bool = False  # met, but worth knowing (e.g. a data version not pinned)

    def to_json(self) -> dict[str, Any]:
        return {"what": self.what, "ok": self.ok, "warning": self.warning, "detail": self.detail}


@dataclass
class Readiness:
    model: str
    current: str | None
    target: str | None
    checks: list[Check] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.target is not None and all(c.ok for c in self.checks)

    def reasons(self) -> list[str]:
        return [f"{c.what}: {c.detail}" for c in self.checks if not c.ok]

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "ready": self.ready,
            "current": self.current,
            "target": self.target,
            "checks": [c.to_json() for c in self.checks],
        }


class RollbackTargets:
    """Whether a model version could be put back into service, checked without changing
    anything: its artifact objects, then each training-data ref."""

    def __init__(
        self,
        registry: Registry,
        tables: TableCatalog,
        store: ObjectStore,
        file_versions: Callable[[str], list[FileVersion]],
        default_remote: Callable[[], Remote | None],
    ) -> None:
        self._registry = registry
        self._tables = tables
        self._store = store
        self._file_versions = file_versions  # recorded versions of a workspace path
        self._default_remote = default_remote  # None when no default remote is configured

    def readiness(self, model: str, *, to: int | str | None = None) -> Readiness:
        """Would ``strata model rollback MODEL [--to V]`` work now, and put back a sound version?"""
        from strata.errors import ModelVersionNotFoundError
        from strata.models import trail

        registry = self._registry
        result = Readiness(model, None, None)
        try:
            current = registry.resolve(f"model:{model}@production")
        except ModelVersionNotFoundError:
            result.checks.append(Check("current version", False, "no version is in production"))
            return result
        result.current = current.ref
        if to is not None:
            target = registry.show(f"model:{model}@{str(to).removeprefix('@')}")
        else:
            previous = trail.previous_holder(registry.history(model), current.number)
            if previous is None:
                result.checks.append(
                    Check(
                        "target version",
                        False,
                        f"no version held production before version {current.number}",
                    )
                )
                return result
            target = registry.show(f"model:{model}@{previous}")
        result.target = target.ref
        result.checks.append(
            Check("target version", True, f"{target.ref} (v{target.semver}) is registered")
        )
        result.checks.extend(self.checks(target))
        return result

    def checks(self, version: ModelVersion, *, rehash: bool = True) -> list[Check]:
        """Can ``version`` be put back into service: its artifact, then each training-data ref.
        Without ``rehash`` the artifact's objects are only looked for, not re-hashed (the quick
        check every promotion makes; ``strata rollback check`` re-hashes)."""
        return [
            self._artifact_check(version, rehash=rehash),
            *(self._data_check(ref) for ref in version.data),
        ]

    def _artifact_check(self, version: ModelVersion, *, rehash: bool = True) -> Check:
        from strata.errors import ObjectCorruptError, ObjectMissingError
        from strata.models import artifacts

        what = f"artifact {version.artifact_hash[:12]}"
        try:
            if not rehash:
                needed = artifacts.objects_of(
                    self._store, version.artifact_hash, version.artifact_kind, what=version.ref
                )
                if self._store.missing(needed):
                    return self._artifact_on_remote(version, what)
                return Check(what, True, "in the local cache")
            artifacts.verify(
                self._store, version.artifact_hash, version.artifact_kind, what=version.ref
            )
        except ObjectCorruptError as exc:
            return Check(what, False, exc.message)
        except ObjectMissingError:
            return self._artifact_on_remote(version, what)
        return Check(what, True, "in the local cache, every object matches its hash")

    def _artifact_on_remote(self, version: ModelVersion, what: str) -> Check:
        """Not in the cache: ready only if the default remote holds it (it is verified on fetch)."""
        from strata.models import artifacts

        needed = [version.artifact_hash]
        if version.artifact_kind == "directory" and self._store.exists(version.artifact_hash):
            needed = artifacts.objects_of(
                self._store, version.artifact_hash, "directory", what=what
            )
        return self._on_remote(needed, what)

    def _on_remote(self, needed: list[str], what: str) -> Check:
        """``needed`` objects are missing from the cache: are they on the default remote?"""
        try:
            remote = self._default_remote()
            if remote is None:
                return Check(
                    what, False, "missing from the cache and no default remote is configured"
                )
            present = remote.names()
        except StrataError as exc:
            return Check(what, False, f"missing from the cache, and the remote: {exc.message}")
        if any(n not in present for n in needed):
            return Check(what, False, f"missing from the cache and from remote {remote.name}")
        return Check(
            what, True, f"not cached, but on remote {remote.name}; `strata pull` fetches it"
        )

    def _data_check(self, text: str) -> Check:
        """A training-data ref of the target: still readable, and pinned against vacuum."""
        try:
            ref = parse_ref(text)
        except StrataError as exc:
            return Check(f"data {text}", False, exc.message)
        if ref.kind == "table":
            return self._table_check(text)
        if ref.kind == "file":
            return self._file_check(text, ref.name, ref.selector)
        return Check(f"data {text}", True, f"a {ref.kind} ref; nothing to check", warning=True)

    def _table_check(self, text: str) -> Check:
        what = f"data {text}"
        try:
            table, version = self._tables.version_of(text)
            files = table.files(version)
        except StrataError as exc:
            return Check(what, False, exc.message)
        location = table.location
        if "://" not in location or location.startswith("file://"):
            root = Path(location.removeprefix("file://"))
            gone = [p for p in files if not (root / p).exists() and not Path(p).exists()]
            if gone:
                return Check(what, False, f"{len(gone)} of its data files were removed (vacuumed?)")
        if version not in table.pinned_versions():
            return Check(
                what,
                True,
                f"readable, but not pinned: vacuum may remove it (`strata table pin {text}`)",
                warning=True,
            )
        return Check(what, True, "readable and pinned")

    def _file_check(self, text: str, path: str, selector: object) -> Check:
        """A ``file:PATH@HASHPREFIX`` ref: its recorded version's object is in the cache."""
        what = f"data {text}"
        prefix = str(selector).lower()
        versions = [v for v in self._file_versions(path) if v.hash.startswith(prefix)]
        if not versions:
            return Check(what, True, "not a recorded content hash; nothing to check", warning=True)
        if self._store.exists(versions[-1].hash):
            return Check(what, True, "its object is in the cache")
        return self._on_remote([versions[-1].hash], what)
