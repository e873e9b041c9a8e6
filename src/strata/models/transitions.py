"""Changes to a registered model: stages, rollbacks, aliases, tags and descriptions.

Each function runs inside the caller's write transaction, after the model's row is locked
(``Change.open``), and appends one audit event per change; the rows it updates are the
current state, the events are the history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from strata.errors import (
    ModelVersionNotFoundError,
    PromotionRefusedError,
    ProtectedAliasError,
    RegistryError,
)
from strata.models import catalog, trail
from strata.models.gates import Gates
from strata.models.records import Event, ModelVersion
from strata.refs import Ref, StageName, parse_ref

if TYPE_CHECKING:
    import sqlalchemy as sa


@dataclass
class Change:
    """One transaction's changes to one model, and the events they appended."""

    c: sa.Connection
    name: str
    actor: str
    now: datetime
    mid: int = 0
    events: list[Event] = field(default_factory=list)
    context: Mapping[str, Any] = field(default_factory=dict)  # added to each event's detail

    @classmethod
    def open(
        cls,
        c: sa.Connection,
        name: str,
        actor: str,
        now: datetime,
        *,
        context: Mapping[str, Any] | None = None,
    ) -> Change:
        change = cls(c, name, actor, now, context=dict(context or {}))
        change.mid = catalog.model_id(c, name, lock=True)
        return change

    def version(self, ref: Ref) -> ModelVersion:
        """The version ``ref`` names, with its tags, metrics and aliases."""
        found = catalog.resolve(self.c, self.name, ref.selector)
        if found is None:
            raise ModelVersionNotFoundError(f"{ref} names no version")
        return self.number(found.number)

    def number(self, number: int) -> ModelVersion:
        row = catalog.version_row(self.c, self.mid, number)
        if row is None:
            raise ModelVersionNotFoundError(f"model {self.name!r} has no version {number}")
        return catalog.with_details(self.c, self.name, [row])[0]

    def record(self, **fields: Any) -> Event:
        if self.context:
            fields["detail"] = {**(fields.get("detail") or {}), **self.context}
        event = catalog.append_event(
            self.c, self.mid, self.name, actor=self.actor, at=self.now, **fields
        )
        self.events.append(event)
        return event

    def move(
        self, number: int, old: str, new: StageName, reason: str | None, **fields: Any
    ) -> None:
        event = self.record(
            action="stage", version=number, from_value=old, to_value=new, reason=reason, **fields
        )
        vid = catalog.version_id(self.c, self.mid, number, self.name)
        catalog.set_stage(self.c, vid, new, event.id)


def promote(
    change: Change,
    version: ModelVersion,
    target: StageName,
    gates: Gates,
    *,
    reason: str | None,
    keep_existing: bool,
    force: bool,
    rollback_problems: Sequence[str] = (),
) -> None:
    if version.stage == target:
        return
    failed: list[str] = []
    if gates.require_rollback_ready and rollback_problems:
        failed.append("a rollback from it would not work: " + "; ".join(rollback_problems))
    if gates.configured:
        visited = catalog.events(
            change.c, change.mid, change.name, actions=("stage",), version=version.number
        )
        held = catalog.holders(change.c, change.mid, "production")
        production = change.number(held[0].number) if held else None
        failed += gates.failures(version, trail.stages_visited(visited), production)
    if failed and not force:
        raise PromotionRefusedError(
            f"promoting {version.ref} to {target} failed {len(failed)} gate(s): "
            + "; ".join(failed)
        )
    detail = {"overridden_gates": failed} if failed else None
    change.move(version.number, version.stage, target, reason, forced=bool(failed), detail=detail)
    if target in ("staging", "production") and not keep_existing:
        for held_row in catalog.holders(change.c, change.mid, target):
            if held_row.number != version.number:
                why = f"replaced by version {version.number}"
                change.move(held_row.number, target, "archived", why)


def rollback(
    change: Change,
    *,
    to: str | None,
    reason: str | None,
    evidence: Mapping[str, Any] | None = None,
) -> int:
    """Put back the previous production holder (or ``to``); archive the current ones.
    ``evidence`` (what made a guard act: the conditions that fired, the metrics it read) is
    kept in the events' detail."""
    current = catalog.holders(change.c, change.mid, "production")
    if not current:
        raise RegistryError(
            f"model {change.name!r} has no version in production to roll back",
            hint="promote one with `strata model promote`",
        )
    now_number = current[0].number
    target = _rollback_target(change, now_number, to)
    why = reason or f"rollback from version {now_number}"
    detail: dict[str, Any] = {"rollback_from": now_number}
    if evidence:
        detail["evidence"] = dict(evidence)
    change.move(target, change.number(target).stage, "production", why, detail=detail)
    for held in current:
        if held.number != target:
            change.move(held.number, "production", "archived", why, detail=detail)
    return target


def _rollback_target(change: Change, current: int, to: str | None) -> int:
    if to is not None:
        ref = parse_ref(f"model:{change.name}@{to.removeprefix('@')}", expect="model")
        number = change.version(ref).number
        if number == current:
            raise RegistryError(
                f"version {current} of {change.name!r} is in production already",
                hint="name another version with --to",
            )
        return number
    moves = catalog.events(change.c, change.mid, change.name, actions=("stage",))
    previous = trail.previous_holder(moves, current)
    if previous is None:
        raise RegistryError(
            f"no version of {change.name!r} held production before version {current}",
            hint="name the version to put back with --to",
        )
    return previous


def set_alias(
    change: Change,
    version: ModelVersion,
    alias: str,
    *,
    protected: bool,
    force: bool,
    reason: str | None,
) -> None:
    existing = catalog.alias_row(change.c, change.mid, alias)
    was = None if existing is None else existing.number
    keep = protected or bool(existing is not None and existing.protected)
    if existing is not None and was == version.number and existing.protected == keep:
        return
    if existing is not None and existing.protected and was != version.number and not force:
        raise ProtectedAliasError(
            f"alias {alias!r} of model {change.name!r} is protected (on version {was})"
        )
    vid = catalog.version_id(change.c, change.mid, version.number, change.name)
    catalog.put_alias(change.c, change.mid, alias, vid, keep)
    change.record(
        action="alias", version=version.number, subject=alias,
        from_value=None if was is None else str(was), to_value=str(version.number),
        reason=reason, forced=force and was is not None, detail={"protected": keep},
    )  # fmt: skip


def remove_alias(change: Change, alias: str, *, force: bool, reason: str | None) -> None:
    existing = catalog.alias_row(change.c, change.mid, alias)
    if existing is None:
        raise RegistryError(
            f"model {change.name!r} has no alias {alias!r}",
            hint=f"see its aliases with `strata model show model:{change.name}`",
        )
    if existing.protected and not force:
        raise ProtectedAliasError(f"alias {alias!r} of model {change.name!r} is protected")
    catalog.put_alias(change.c, change.mid, alias, None, False)
    change.record(
        action="alias", version=existing.number, subject=alias,
        from_value=str(existing.number), to_value=None, reason=reason,
        forced=force and existing.protected,
    )  # fmt: skip


def tag(
    change: Change, version: ModelVersion, wanted: Mapping[str, str | None], reason: str | None
) -> None:
    vid = catalog.version_id(change.c, change.mid, version.number, change.name)
    for key, value in wanted.items():
        old = version.tags.get(key)
        if old != value:
            catalog.set_tag(change.c, vid, key, value)
            change.record(
                action="tag", version=version.number, subject=key, from_value=old,
                to_value=value, reason=reason,
            )  # fmt: skip


def tag_model(change: Change, wanted: Mapping[str, str | None], reason: str | None) -> None:
    """Set (or remove, None) tags of the model itself; each change is an event."""
    current = catalog.model_level_tags_of(change.c, change.mid)
    for key, value in wanted.items():
        if current.get(key) != value:
            catalog.set_model_level_tag(change.c, change.mid, key, value)
            change.record(
                action="tag", version=None, subject=key, from_value=current.get(key),
                to_value=value, reason=reason,
            )  # fmt: skip


def describe(change: Change, ref: Ref, text: str, reason: str | None) -> int | None:
    """Describe the model (no selector) or a version; the version number, if any."""
    number: int | None = None
    if ref.selector is None:
        old = catalog.describe_model(change.c, change.mid, text)
    else:
        version = change.version(ref)
        number, old = version.number, version.description
        vid = catalog.version_id(change.c, change.mid, number, change.name)
        catalog.set_version_description(change.c, vid, text)
    if old != text:
        change.record(
            action="description", version=number, from_value=old, to_value=text, reason=reason
        )
    return number
