"""Rollback across capabilities: proof that a rollback would work, and the one the guard runs.

A rollback is only as good as its target. ``readiness`` checks, without changing anything,
that the version a rollback would put back exists, that its artifact objects are in the cache
and match their hashes (or at least are on the remote), and that the data versions it was
trained on are still readable and pinned. ``ModelRollbacks`` is what the guard calls: it
refuses, with the reasons, when the target is not ready — a guard never rolls back to a
broken version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.errors import GuardError, StrataError
from strata.refs import Version, parse_ref

if TYPE_CHECKING:
    from strata.models.records import ModelVersion
    from strata.refs import Ref
    from strata.workspace import Workspace


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


def readiness(ws: Workspace, model: str, *, to: int | str | None = None) -> Readiness:
    """Would ``strata model rollback MODEL [--to V]`` work now, and put back a sound version?"""
    from strata.errors import ModelVersionNotFoundError
    from strata.models import trail

    registry = ws.models
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
    result.checks.extend(target_checks(ws, target))
    return result


def target_checks(ws: Workspace, version: ModelVersion, *, rehash: bool = True) -> list[Check]:
    """Can ``version`` be put back into service: its artifact, then each training-data ref.
    Without ``rehash`` the artifact's objects are only looked for, not re-hashed (the quick
    check every promotion makes; ``strata rollback check`` re-hashes)."""
    return [
        _artifact_check(ws, version, rehash=rehash),
        *(_data_check(ws, ref) for ref in version.data),
    ]


def _artifact_check(ws: Workspace, version: ModelVersion, *, rehash: bool = True) -> Check:
    from strata.errors import ObjectCorruptError, ObjectMissingError
    from strata.models import artifacts

    what = f"artifact {version.artifact_hash[:12]}"
    try:
        if not rehash:
            needed = artifacts.objects_of(
                ws.store, version.artifact_hash, version.artifact_kind, what=version.ref
            )
            if ws.store.missing(needed):
                return _artifact_on_remote(ws, version, what)
            return Check(what, True, "in the local cache")
        artifacts.verify(ws.store, version.artifact_hash, version.artifact_kind, what=version.ref)
    except ObjectCorruptError as exc:
        return Check(what, False, exc.message)
    except ObjectMissingError:
        return _artifact_on_remote(ws, version, what)
    return Check(what, True, "in the local cache, every object matches its hash")


def _artifact_on_remote(ws: Workspace, version: ModelVersion, what: str) -> Check:
    """Not in the cache: ready only if the default remote holds it (it is verified on fetch)."""
    from strata.models import artifacts

    needed = [version.artifact_hash]
    if version.artifact_kind == "directory" and ws.store.exists(version.artifact_hash):
        needed = artifacts.objects_of(ws.store, version.artifact_hash, "directory", what=what)
    return _on_remote(ws, needed, what)


def _on_remote(ws: Workspace, needed: list[str], what: str) -> Check:
    """``needed`` objects are missing from the cache: are they on the default remote?"""
    if not ws.config.get("core.remote"):
        return Check(what, False, "missing from the cache and no default remote is configured")
    try:
        remote = ws.remote()
        present = remote.names()
    except StrataError as exc:
        return Check(what, False, f"missing from the cache, and the remote: {exc.message}")
    if any(n not in present for n in needed):
        return Check(what, False, f"missing from the cache and from remote {remote.name}")
    return Check(what, True, f"not cached, but on remote {remote.name}; `strata pull` fetches it")


def _data_check(ws: Workspace, text: str) -> Check:
    """A training-data ref of the target: still readable, and pinned against vacuum."""
    try:
        ref = parse_ref(text)
    except StrataError as exc:
        return Check(f"data {text}", False, exc.message)
    if ref.kind == "table":
        return _table_check(ws, text)
    if ref.kind == "file":
        return _file_check(ws, text, ref.name, ref.selector)
    return Check(f"data {text}", True, f"a {ref.kind} ref; nothing to check", warning=True)


def _table_check(ws: Workspace, text: str) -> Check:
    what = f"data {text}"
    try:
        table, version = ws.tables.version_of(text)
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


def _file_check(ws: Workspace, text: str, path: str, selector: object) -> Check:
    """A ``file:PATH@HASHPREFIX`` ref: its recorded version's object is in the cache."""
    what = f"data {text}"
    prefix = str(selector).lower()
    versions = [v for v in ws.file_versions(ws.root / path) if v.hash.startswith(prefix)]
    if not versions:
        return Check(what, True, "not a recorded content hash; nothing to check", warning=True)
    if ws.store.exists(versions[-1].hash):
        return Check(what, True, "its object is in the cache")
    return _on_remote(ws, [versions[-1].hash], what)


class ModelRollbacks:
    """The guard's rollback: refuses unless ``readiness`` passes, then asks the registry."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws

    def rollback(self, model: str, *, reason: str, evidence: dict[str, Any]) -> tuple[str, str]:
        done = roll_back(self._ws, parse_ref(f"model:{model}"), reason=reason, evidence=evidence)
        return done["from"], done["to"]


def roll_back(
    ws: Workspace,
    ref: Ref,
    *,
    to: str | None = None,
    reason: str | None = None,
    evidence: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Roll back a model (after ``readiness`` passes) or a table (a restore commit)."""
    from strata.errors import UserInputError

    if ref.kind == "table":
        if to is None:
            raise UserInputError(
                f"say which version of table {ref.name} to put back",
                hint=f"e.g. strata rollback table:{ref.name} --to 46",
            )
        table, version = ws.tables.version_of(f"table:{ref.name}@{to}")  # number, time or tag
        before = table.latest_version()
        message = f"rollback to version {version}" + (f": {reason}" if reason else "")
        result = table.restore(version, message=message)
        return {"from": f"table:{ref.name}@{before}", "to": result.ref}
    ready = readiness(ws, ref.name, to=to)
    if not ready.ready or ready.target is None or ready.current is None:
        raise GuardError(
            f"not rolling {ref.name} back: {'; '.join(ready.reasons())}",
            hint=f"see `strata rollback check model:{ref.name}`",
        )
    target = parse_ref(ready.target).selector
    assert isinstance(target, Version)
    transition = ws.models.rollback(ref.name, to=target.number, reason=reason, evidence=evidence)
    return {"from": ready.current, "to": transition.ref}
