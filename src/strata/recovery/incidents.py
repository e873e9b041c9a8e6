"""Incident reports: one Markdown timeline from the registry's audit trail, the guard's checks,
table commits, deployments and an impact analysis — the document an audit asks for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from strata.errors import UserInputError

if TYPE_CHECKING:
    from strata.guard.check import Guard
    from strata.lineage import Lineage
    from strata.lineage.analysis import Impact
    from strata.models import Registry
    from strata.tables import TableCatalog


@dataclass(frozen=True)
class Entry:
    at: datetime
    source: str  # registry | guard | table | deployment | run
    actor: str
    text: str


@dataclass(frozen=True)
class IncidentSources:
    """Where an incident report reads: the trail, the guard, table commits, deployments."""

    registry: Registry
    tables: TableCatalog
    guard: Callable[[], Guard]
    lineage: Callable[[], Lineage]


def _registry_entries(registry: Registry, since: datetime, model: str | None) -> list[Entry]:
    names = [model] if model else [m.name for m in registry.list_models()]
    entries = []
    for name in names:
        for e in registry.history(name):
            if e.at < since:
                continue
            what = f"model:{e.model}@{e.version}" if e.version else f"model:{e.model}"
            if e.action == "stage":
                text = f"{what}: stage {e.from_value} → {e.to_value}"
            elif e.action == "alias":
                text = (
                    f"alias {e.subject} of {e.model}: {e.from_value or '-'} → {e.to_value or '-'}"
                )
            elif e.action == "registered":
                text = f"{what} registered ({e.to_value})"
            else:
                text = f"{what}: {e.action} {e.subject or ''} {e.to_value or ''}".rstrip()
            if e.forced:
                text += " [forced]"
            if e.reason:
                text += f" — {e.reason}"
            entries.append(Entry(e.at, "registry", e.actor, text))
    return entries


def _guard_entries(guard: Guard, since: datetime, model: str | None) -> list[Entry]:
    entries = []
    for e in guard.events(model, since=since):
        text = f"guard {e.outcome} for {e.model}: {e.message}"
        entries.append(Entry(e.checked_at, "guard", "strata-guard", text))
    return entries


def _table_entries(tables: TableCatalog, since: datetime) -> list[Entry]:
    entries = []
    for info in tables.list():
        for commit in tables.open(info.name).history():
            if commit.timestamp < since:
                continue
            text = f"table:{info.name}@{commit.version} {commit.operation}"
            if commit.message:
                text += f" — {commit.message}"
            entries.append(Entry(commit.timestamp, "table", commit.user or "?", text))
    return entries


def _deployment_entries(lineage: Lineage, since: datetime, model: str | None) -> list[Entry]:
    entries = []
    for d in lineage.deployments():
        if d.deployed_at < since or (model and not d.model.startswith(f"model:{model}@")):
            continue
        image = f" ({d.image})" if d.image else ""
        entries.append(Entry(d.deployed_at, "deployment", "?", f"{d.model} → {d.target}{image}"))
    return entries


@dataclass
class Incident:
    since: datetime
    model: str | None
    entries: list[Entry]
    impact_of: str | None = None
    impact: Impact | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "model": self.model,
            "timeline": [
                {"at": e.at.isoformat(), "source": e.source, "actor": e.actor, "text": e.text}
                for e in self.entries
            ],
            "impact": None if self.impact is None else self.impact.to_dict(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], impact_of: str | None = None) -> Incident:
        """The report ``to_json`` gave (what a server answers), for ``impact_of``."""
        from strata.lineage.analysis import Impact

        entries = [
            Entry(datetime.fromisoformat(e["at"]), e["source"], e["actor"], e["text"])
            for e in data["timeline"]
        ]
        impact = None if data["impact"] is None else Impact.from_dict(data["impact"])
        since = datetime.fromisoformat(data["since"])
        return cls(since, data["model"], entries, impact_of, impact)

    def to_markdown(self) -> str:
        scope = f" for model {self.model}" if self.model else ""
        lines = [
            f"# Incident report{scope}",
            "",
            f"Events since {self.since.isoformat(timespec='seconds')}; "
            f"generated {datetime.now().astimezone().isoformat(timespec='seconds')}.",
            "",
            "## Timeline",
            "",
        ]
        if not self.entries:
            lines.append("Nothing happened in this window.")
        lines += [
            f"- {e.at.astimezone().isoformat(timespec='seconds')} · {e.source} · {e.actor} · "
            f"{_md(e.text)}"
            for e in self.entries
        ]
        if self.impact is not None:
            lines += ["", f"## Impact of {self.impact_of}", ""]
            if not self.impact.affected:
                lines.append("Nothing downstream was found.")
            for affected in self.impact.affected:
                line = f"- {affected.kind}: {affected.ref}"
                target = self.impact.suggestions.get(affected.ref)
                if affected.kind == "model" and target:
                    line += f" (rollback target: {target})"
                lines.append(line)
        actors: dict[str, int] = {}
        for e in self.entries:
            actors[e.actor] = actors.get(e.actor, 0) + 1
        if actors:
            lines += ["", "## Who acted", ""]
            lines += [f"- {actor}: {count} events" for actor, count in sorted(actors.items())]
        return "\n".join(lines) + "\n"


def incident_report(
    sources: IncidentSources,
    *,
    since: datetime,
    model: str | None = None,
    impact: str | None = None,
) -> Incident:
    """Timeline, impact analysis and who acted, from what the workspace recorded."""
    if since.tzinfo is None:
        since = since.astimezone()
    if model is not None:
        sources.registry.resolve(f"model:{model}")  # an unknown model is an error
    entries = sorted(
        _registry_entries(sources.registry, since, model)
        + _guard_entries(sources.guard(), since, model)
        + _table_entries(sources.tables, since)
        + _deployment_entries(sources.lineage(), since, model),
        key=lambda e: e.at,
    )
    found = None if impact is None else sources.lineage().impact(impact, suggest=True)
    return Incident(since, model, entries, impact, found)


def _md(text: str) -> str:
    """One list item per entry: a message never breaks the line."""
    return text.replace("\n", " ")


def parse_since(text: str) -> datetime:
    """An ISO instant (``2024-03-03T14:00``) or a duration back from now (``2h``, ``7d``)."""
    from strata.guard.policy import parse_duration

    try:
        return datetime.now().astimezone() - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UserInputError(
            f"--since {text!r} is neither an ISO time nor a duration",
            hint="e.g. --since 2024-03-03T14:00 or --since 24h",
        ) from None
    return moment if moment.tzinfo else moment.astimezone()
