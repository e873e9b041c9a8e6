"""Answers from the audit trail: where a ref pointed at an instant, and what a rollback puts
back. The trail is append-only, so these replay events instead of trusting current rows."""

from __future__ import annotations

from collections.abc import Sequence

from strata.models.records import Event
from strata.refs import Alias, Latest, Selector, SemVer, Stage, Version


def number_at(events: Sequence[Event], selector: Selector | None) -> int | None:
    """The version ``selector`` named after ``events`` (the trail up to an instant)."""
    registered = {e.version: e for e in events if e.action == "registered" and e.version}
    if isinstance(selector, Version):
        return selector.number if selector.number in registered else None
    if isinstance(selector, SemVer):
        wanted = str(selector)
        return next((n for n, e in registered.items() if e.to_value == wanted), None)
    if isinstance(selector, Stage):
        return _stage_holder(events, selector.name)
    if isinstance(selector, Alias):
        return _alias_target(events, selector.name)
    if selector is None or isinstance(selector, Latest):
        return max(registered, default=None)
    return None


def _stage_holder(events: Sequence[Event], stage: str) -> int | None:
    """The version in ``stage`` that moved there last (several may share it)."""
    stage_of: dict[int, str] = {}
    moved_at: dict[int, int] = {}
    for event in events:
        if event.version is None:
            continue
        if event.action == "registered":
            stage_of[event.version] = "none"
        elif event.action == "stage" and event.to_value is not None:
            stage_of[event.version] = event.to_value
            moved_at[event.version] = event.id
    in_stage = [v for v, s in stage_of.items() if s == stage]
    return max(in_stage, key=lambda v: moved_at.get(v, 0), default=None)


def _alias_target(events: Sequence[Event], alias: str) -> int | None:
    target: int | None = None
    for event in events:
        if event.action == "alias" and event.subject == alias:
            target = None if event.to_value is None else int(event.to_value)
    return target


def previous_holder(events: Sequence[Event], current: int, stage: str = "production") -> int | None:
    """The version that held ``stage`` before ``current`` last moved there."""
    moves = [e for e in events if e.action == "stage" and e.to_value == stage and e.version]
    last_current = max((i for i, e in enumerate(moves) if e.version == current), default=None)
    if last_current is None:
        return None
    for event in reversed(moves[:last_current]):
        if event.version != current:
            return event.version
    return None


def stages_visited(events: Sequence[Event]) -> set[str]:
    """The stages a version's events moved it to."""
    return {e.to_value for e in events if e.action == "stage" and e.to_value is not None}
