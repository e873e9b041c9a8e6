"""``ws.models`` and ``ws.lineage`` as a Strata server answers them: the same calls, the same
record types (built from the server's JSON with ``from_dict``), over ``RemoteApi``.

An option the server does not take yet (``resolve --at``, ``versions --tag``, ``impact
--archive``) is refused with one line rather than answered differently.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from strata.cli.remote_api import RemoteApi, not_offered
from strata.models.records import Event, ModelSummary, ModelVersion, Resolved, Transition
from strata.refs import parse_ref

if TYPE_CHECKING:
    from strata.lineage.analysis import Impact
    from strata.lineage.graph import Graph

WAYS = {"upstream": "up", "downstream": "down", "both": "both"}


def _model(ref: str) -> tuple[str, str]:
    """A model ref's name and selector (``latest`` when it has none), checked here as the
    workspace's registry checks it."""
    parsed = parse_ref(ref, expect="model")
    return parsed.name, "latest" if parsed.selector is None else str(parsed.selector)


class RemoteRegistry:
    """The model registry of a Strata server; changes are recorded as the token's user."""

    def __init__(self, api: RemoteApi) -> None:
        self.api = api

    def show(self, ref: str) -> ModelVersion:
        return ModelVersion.from_dict(self.api.version(*_model(ref)))

    def resolve(self, ref: str, *, at: datetime | None = None) -> Resolved:
        if at is not None:
            raise not_offered("`model resolve --at`", self.api.url)
        name, selector = _model(ref)
        return Resolved.from_dict(self.api.resolve(f"model:{name}@{selector}"))

    def list_models(self) -> list[ModelSummary]:
        return [ModelSummary.from_dict(m) for m in self.api.models()]

    def versions(
        self,
        name: str,
        *,
        stage: str | None = None,
        tags: Mapping[str, str] | None = None,
        semver_range: str | None = None,
        sort: str = "number",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ModelVersion]:
        if tags:
            raise not_offered("`model versions --tag`", self.api.url)
        query = {"stage": stage, "semver": semver_range, "sort": sort, "desc": descending,
                 "limit": limit, "offset": offset}  # fmt: skip
        return [ModelVersion.from_dict(v) for v in self.api.versions(name, query)]

    def history(self, name: str) -> list[Event]:
        return [Event.from_dict(e) for e in self.api.history(name)]

    def audit(
        self, *, model: str | None = None, since: datetime | None = None, limit: int | None = None
    ) -> list[Event]:
        query = {"model": model, "since": None if since is None else since.isoformat(),
                 "limit": limit}  # fmt: skip
        return [Event.from_dict(e) for e in self.api.audit(query)]

    def promote(
        self,
        ref: str,
        stage: str,
        *,
        reason: str | None = None,
        keep_existing: bool = False,
        force: bool = False,
    ) -> Transition:
        body = {"stage": stage, "reason": reason, "keep_existing": keep_existing, "force": force}
        return Transition.from_dict(self.api.stage(*_model(ref), body))

    def set_alias(
        self,
        ref: str,
        alias: str,
        *,
        protected: bool = False,
        force: bool = False,
        reason: str | None = None,
    ) -> Transition:
        name, selector = _model(ref)
        body = {"version": selector, "protected": protected, "force": force, "reason": reason}
        return Transition.from_dict(self.api.set_alias(name, alias, body))

    def remove_alias(
        self, name: str, alias: str, *, force: bool = False, reason: str | None = None
    ) -> Transition:
        query = {"force": force, "reason": reason}
        return Transition.from_dict(self.api.remove_alias(name, alias, query))

    def rollback(
        self, name: str, *, to: str | None = None, reason: str | None = None
    ) -> Transition:
        return Transition.from_dict(self.api.rollback(name, {"to": to, "reason": reason}))


class RemoteLineage:
    """Lineage queries answered by a Strata server."""

    def __init__(self, api: RemoteApi) -> None:
        self.api = api

    def graph(
        self,
        ref: str,
        *,
        direction: Literal["upstream", "downstream", "both"] = "both",
        depth: int = 1000,
    ) -> Graph:
        from strata.lineage.graph import Graph

        found = self.api.lineage(ref, {"direction": WAYS[direction], "depth": depth})
        return Graph.from_dict(found)

    def provenance(self, ref: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api.provenance(ref)
        return found

    def impact(
        self, ref: str, *, suggest: bool = False, archive_reason: str | None = None
    ) -> Impact:
        from strata.lineage.analysis import Impact

        if archive_reason is not None:
            raise not_offered("`impact --archive`", self.api.url)
        return Impact.from_dict(self.api.impact(ref, {"suggest": suggest}))

    def compare(self, a: str, b: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api.compare(a, b)
        return found
