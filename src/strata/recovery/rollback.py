"""Rollback across capabilities: a model (only after its target proved ready) or a table (a
restore commit). ``Rollbacks.rollback`` is what the guard calls: it refuses, with the reasons,
when the target is not ready — a guard never rolls back to a broken version."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from strata.errors import GuardError, UserInputError
from strata.refs import Ref, Version, parse_ref

if TYPE_CHECKING:
    from strata.models import Registry
    from strata.recovery.readiness import Readiness, RollbackTargets
    from strata.tables import TableCatalog


class Rollbacks:
    def __init__(self, targets: RollbackTargets, registry: Registry, tables: TableCatalog) -> None:
        self.targets = targets
        self._registry = registry
        self._tables = tables

    def acting_with(self, registry: Registry, tables: TableCatalog) -> Rollbacks:
        """These rollbacks, their changes made through ``registry`` and ``tables`` (copies
        acting as a server's caller, so the trail names who rolled back)."""
        acting = copy.copy(self)
        acting._registry, acting._tables = registry, tables
        return acting

    def readiness(self, model: str, *, to: int | str | None = None) -> Readiness:
        """Would rolling ``model`` back (to ``to``) work now, and put back a sound version?"""
        return self.targets.readiness(model, to=to)

    def rollback(self, model: str, *, reason: str, evidence: dict[str, Any]) -> tuple[str, str]:
        """The guard's rollback of ``model``: (from, to) refs."""
        done = self.roll_back(parse_ref(f"model:{model}"), reason=reason, evidence=evidence)
        return done["from"], done["to"]

    def roll_back(
        self,
        ref: Ref,
        *,
        to: str | None = None,
        reason: str | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> dict[str, str]:
        """Roll back a model (after ``readiness`` passes) or a table (a restore commit)."""
        if ref.kind == "table":
            return self._roll_back_table(ref, to, reason)
        ready = self.readiness(ref.name, to=to)
        if not ready.ready or ready.target is None or ready.current is None:
            raise GuardError(
                f"not rolling {ref.name} back: {'; '.join(ready.reasons())}",
                hint=f"see `strata rollback check model:{ref.name}`",
            )
        target = parse_ref(ready.target).selector
        assert isinstance(target, Version)
        transition = self._registry.rollback(
            ref.name, to=target.number, reason=reason, evidence=evidence
        )
        return {"from": ready.current, "to": transition.ref}

    def _roll_back_table(self, ref: Ref, to: str | None, reason: str | None) -> dict[str, str]:
        if to is None:
            raise UserInputError(
                f"say which version of table {ref.name} to put back",
                hint=f"e.g. strata rollback table:{ref.name} --to 46",
            )
        table, version = self._tables.version_of(f"table:{ref.name}@{to}")  # number, time, tag
        before = table.latest_version()
        message = f"rollback to version {version}" + (f": {reason}" if reason else "")
        result = table.restore(version, message=message)
        return {"from": f"table:{ref.name}@{before}", "to": result.ref}
