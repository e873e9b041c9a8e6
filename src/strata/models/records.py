"""What the registry hands back: frozen value objects with ``to_dict`` for ``--json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from strata.errors import UserInputError
from strata.refs import SemVer, StageName, parse_selector

ArtifactKind = Literal["file", "directory"]
Action = Literal["registered", "stage", "alias", "tag", "description"]


@dataclass(frozen=True, slots=True)
class Artifact:
    """A stored model file or folder: its object hash (a tree object for a folder)."""

    hash: str
    kind: ArtifactKind
    name: str
    size: int
    files: int


@dataclass(frozen=True, slots=True)
class ModelVersion:
    name: str
    number: int
    semver: SemVer
    semver_reason: str
    stage: StageName
    artifact_hash: str
    artifact_kind: ArtifactKind
    artifact_name: str
    size: int
    files: int
    flavor: str
    signature: dict[str, Any] | None
    description: str | None
    data: tuple[str, ...]
    features: str | None
    run: str | None
    git_commit: str | None
    git_dirty: bool | None
    created_at: datetime
    created_by: str
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    reused: bool = False  # returned by a rerun of a registration that had already committed

    @property
    def ref(self) -> str:
        """The exact ref of this version, ``model:NAME@N``."""
        return f"model:{self.name}@{self.number}"

    def to_dict(self) -> dict[str, object]:
        return {
            "ref": self.ref,
            "name": self.name,
            "version": self.number,
            "semver": str(self.semver),
            "semver_reason": self.semver_reason,
            "stage": self.stage,
            "aliases": list(self.aliases),
            "tags": self.tags,
            "metrics": self.metrics,
            "description": self.description,
            "artifact": {
                "hash": self.artifact_hash,
                "kind": self.artifact_kind,
                "name": self.artifact_name,
                "size": self.size,
                "files": self.files,
                "flavor": self.flavor,
            },
            "signature": self.signature,
            "data": list(self.data),
            "features": self.features,
            "run": self.run,
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            **({"already_registered": True} if self.reused else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelVersion:
        """The version ``to_dict`` gave (e.g. a Strata server's JSON)."""
        artifact = data["artifact"]
        return cls(
            name=data["name"],
            number=data["version"],
            semver=semver_of(data["semver"]),
            semver_reason=data["semver_reason"],
            stage=data["stage"],
            artifact_hash=artifact["hash"],
            artifact_kind=artifact["kind"],
            artifact_name=artifact["name"],
            size=artifact["size"],
            files=artifact["files"],
            flavor=artifact["flavor"],
            signature=data["signature"],
            description=data["description"],
            data=tuple(data["data"]),
            features=data["features"],
            run=data["run"],
            git_commit=data["git_commit"],
            git_dirty=data["git_dirty"],
            created_at=datetime.fromisoformat(data["created_at"]),
            created_by=data["created_by"],
            tags=dict(data["tags"]),
            metrics=dict(data["metrics"]),
            aliases=tuple(data["aliases"]),
            reused=bool(data.get("already_registered", False)),
        )


@dataclass(frozen=True, slots=True)
class ModelSummary:
    name: str
    description: str | None
    versions: int
    latest: int | None
    production: int | None
    created_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "description": self.description,
            "versions": self.versions,
            "latest": self.latest,
            "production": self.production,
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSummary:
        return cls(
            name=data["name"],
            description=data["description"],
            versions=data["versions"],
            latest=data["latest"],
            production=data["production"],
            created_at=datetime.fromisoformat(data["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a ref points to: the exact version, ``model:NAME@N``."""

    name: str
    number: int
    semver: SemVer

    @property
    def ref(self) -> str:
        return f"model:{self.name}@{self.number}"

    def to_dict(self) -> dict[str, object]:
        return {
            "ref": self.ref,
            "name": self.name,
            "version": self.number,
            "semver": str(self.semver),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Resolved:
        return cls(data["name"], data["version"], semver_of(data["semver"]))


@dataclass(frozen=True, slots=True)
class Event:
    """One row of the append-only audit trail."""

    id: int
    model: str
    version: int | None
    action: Action
    subject: str | None
    from_value: str | None
    to_value: str | None
    actor: str
    reason: str | None
    forced: bool
    detail: dict[str, Any] | None
    at: datetime

    def describe(self) -> str:
        """One human line: what changed, from what to what."""
        target = f"v{self.version}" if self.version is not None else "model"
        if self.action == "registered":
            return f"registered version {self.version} ({self.to_value})"
        if self.action == "stage":
            return f"{target} stage {self.from_value} → {self.to_value}"
        if self.action == "alias":
            old = "none" if self.from_value is None else f"v{self.from_value}"
            new = "removed" if self.to_value is None else f"v{self.to_value}"
            return f"alias {self.subject}: {old} → {new}"
        if self.action == "tag":
            old = "none" if self.from_value is None else self.from_value
            new = "removed" if self.to_value is None else self.to_value
            return f"{target} tag {self.subject}: {old} → {new}"
        old = "none" if self.from_value is None else repr(self.from_value)
        new = "removed" if self.to_value is None else repr(self.to_value)
        return f"{target} description: {old} → {new}"

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "model": self.model,
            "version": self.version,
            "action": self.action,
            "subject": self.subject,
            "from": self.from_value,
            "to": self.to_value,
            "actor": self.actor,
            "reason": self.reason,
            "forced": self.forced,
            "detail": self.detail,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        return cls(
            id=data["id"],
            model=data["model"],
            version=data["version"],
            action=data["action"],
            subject=data["subject"],
            from_value=data["from"],
            to_value=data["to"],
            actor=data["actor"],
            reason=data["reason"],
            forced=data["forced"],
            detail=data["detail"],
            at=datetime.fromisoformat(data["at"]),
        )


@dataclass(frozen=True, slots=True)
class Transition:
    """The result of a promotion, alias move or rollback: the events it appended."""

    ref: str
    events: tuple[Event, ...]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "ref": self.ref,
            "events": [e.to_dict() for e in self.events],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transition:
        events = tuple(Event.from_dict(e) for e in data["events"])
        return cls(data["ref"], events, tuple(data.get("warnings", ())))


def semver_of(text: str) -> SemVer:
    """The semver ``str(SemVer)`` wrote: ``v1.2.3`` or ``v1.2.3-rc.1``."""
    found = parse_selector("model", text)
    if not isinstance(found, SemVer):
        raise UserInputError(f"not a semver: {text!r}", hint="write it as vX.Y.Z")
    return found
