"""``ws.recovery``: rollback across capabilities, releases and incident reports, in one place."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from strata.recovery.incidents import Incident, IncidentSources, incident_report

if TYPE_CHECKING:
    from strata.guard.check import GuardEvent
    from strata.models import Registry
    from strata.recovery.readiness import Readiness
    from strata.recovery.releases import Releases
    from strata.recovery.rollback import Rollbacks
    from strata.refs import Ref
    from strata.tables import TableCatalog


INCIDENT_OUTCOMES = ("rolled_back", "rollback_failed", "alerted")  # the guard acted
INCIDENT_LEAD = timedelta(hours=24)  # an incident's timeline starts this long before it


class Recovery:
    def __init__(
        self, rollbacks: Rollbacks, releases: Releases, incidents: IncidentSources
    ) -> None:
        self.rollbacks = rollbacks
        self.releases = releases
        self._incidents = incidents

    def acting_with(self, registry: Registry, tables: TableCatalog) -> Recovery:
        """Rollbacks and releases whose changes go through ``registry`` and ``tables``
        (acting as a server's caller); what they read stays the same."""
        rollbacks = self.rollbacks.acting_with(registry, tables)
        return Recovery(rollbacks, self.releases.acting_with(registry, tables), self._incidents)

    def readiness(self, model: str, *, to: int | str | None = None) -> Readiness:
        """Would rolling ``model`` back (to ``to``) work now, and put back a sound version?"""
        return self.rollbacks.readiness(model, to=to)

    def roll_back(
        self,
        ref: Ref,
        *,
        to: str | None = None,
        reason: str | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> dict[str, str]:
        """Roll back a model (after ``readiness`` passes) or a table (a restore commit)."""
        return self.rollbacks.roll_back(ref, to=to, reason=reason, evidence=evidence)

    def incident_report(
        self, *, since: datetime, model: str | None = None, impact: str | None = None
    ) -> Incident:
        """Timeline, impact analysis and who acted, from what the workspace recorded."""
        return incident_report(self._incidents, since=since, model=model, impact=impact)

    def incidents(self) -> list[GuardEvent]:
        """Each time the guard acted (rolled back, failed to, or alerted), newest first."""
        events = self._incidents.guard().events()
        return [e for e in reversed(events) if e.outcome in INCIDENT_OUTCOMES]

    def incident(self, guard_check: int) -> tuple[GuardEvent, Incident]:
        """The incident a guard action opened: the action, the timeline from a day before it,
        and what the version it acted on reached downstream."""
        event = self._incidents.guard().event(guard_check)
        report = incident_report(
            self._incidents,
            since=event.checked_at - INCIDENT_LEAD,
            model=event.model,
            impact=event.from_ref,
        )
        return event, report
