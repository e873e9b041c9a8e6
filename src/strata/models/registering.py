"""A registration: its input checked before anything is written, then its rows inserted in
one transaction."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from strata.errors import UserInputError
from strata.models import catalog, flavors
from strata.models import registration_rows as rows
from strata.models import semver as versioning
from strata.models import signature as signatures
from strata.models.records import Artifact, Event, ModelVersion
from strata.refs import SemVer, format_ref, parse_ref

if TYPE_CHECKING:
    import sqlalchemy as sa


@dataclass(frozen=True, slots=True)
class Plan:
    """A checked registration, before anything is written."""

    name: str
    tags: dict[str, str]
    metrics: dict[str, float]
    data: tuple[str, ...]
    features: str | None
    run: str | None
    semver: SemVer | None
    bump: versioning.Bump | None
    signature: dict[str, Any] | None
    flavor: str | None
    description: str | None


def plan(
    name: str,
    *,
    tags: Mapping[str, str] | None,
    metrics: Mapping[str, float] | None,
    data: Iterable[str],
    features: str | None,
    run: str | None,
    semver: str | None,
    bump: str | None,
    signature: Mapping[str, Any] | None,
    flavor: str | None,
    description: str | None,
) -> Plan:
    """Check every argument; bad input raises before anything is stored."""
    if semver is not None and bump is not None:
        raise UserInputError("give --semver or --bump, not both")
    if run is not None and not run.startswith("run:"):
        run = f"run:{run}"
    return Plan(
        name=check_name(name),
        tags={check_key(k, "tag"): str(v) for k, v in (tags or {}).items()},
        metrics={check_key(k, "metric"): _metric(k, v) for k, v in (metrics or {}).items()},
        data=tuple(dict.fromkeys(format_ref(parse_ref(r)) for r in data)),
        features=None if features is None else format_ref(parse_ref(features, expect="features")),
        run=None if run is None else format_ref(parse_ref(run, expect="run")),
        semver=None if semver is None else versioning.parse_semver(semver),
        bump=_bump(bump),
        signature=None if signature is None else signatures.normalise(dict(signature)),
        flavor=None if flavor is None else flavors.check_flavor(flavor),
        description=description,
    )


def check_name(name: str) -> str:
    ref = parse_ref(f"model:{name}", expect="model")
    if ref.selector is not None:
        raise UserInputError(f"bad model name {name!r}", hint="a name has no '@'")
    return ref.name


def check_key(key: str, what: str) -> str:
    if not key or key != key.strip() or "=" in key:
        raise UserInputError(f"bad {what} name {key!r}", hint=f"write {what}s as KEY=VALUE")
    return key


def _metric(key: str, value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise UserInputError(f"metric {key!r} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise UserInputError(f"metric {key!r} is not a finite number: {value!r}")
    return number


def _bump(text: str | None) -> versioning.Bump | None:
    if text is None:
        return None
    for bump in versioning.BUMPS:
        if text == bump:
            return bump
    raise UserInputError(f"bad bump {text!r}", hint="use major, minor or patch")


def check_semver(c: sa.Connection, planned: Plan) -> None:
    """Refuse a given semver that does not increase, before the artifact is stored."""
    if planned.semver is None:
        return
    mid = catalog.find_model(c, planned.name)
    if mid is not None:
        highest = catalog.highest_semver(c, mid)
        versioning.choose(planned.name, None, highest, artifact_hash="", signature=None,
                          semver=planned.semver, bump=None)  # fmt: skip


def _same_registration(
    latest: ModelVersion,
    planned: Plan,
    artifact: Artifact,
    code: tuple[str | None, bool | None],
    actor: str,
) -> bool:
    flavor = planned.flavor or flavors.infer_flavor(artifact.name, artifact.kind)
    return (
        latest.artifact_hash == artifact.hash
        and latest.created_by == actor
        and (latest.run, latest.features) == (planned.run, planned.features)
        and latest.data == planned.data
        and (latest.tags, latest.metrics) == (planned.tags, planned.metrics)
        and (latest.description, latest.flavor, latest.signature)
        == (planned.description, flavor, planned.signature)
        and latest.git_commit == code[0]
        and (planned.semver is None or planned.semver == latest.semver)
    )


def insert(
    c: sa.Connection,
    planned: Plan,
    artifact: Artifact,
    code: tuple[str | None, bool | None],
    actor: str,
    now: datetime,
    *,
    allow_duplicate: bool = False,
) -> tuple[ModelVersion, Event | None]:
    """The next version of the model (created if new), its semver chosen under the lock.

    A registration identical to the latest version (same artifact, same inputs, same user) is
    a rerun of one that already committed, e.g. after the first was killed: the latest version
    is returned with ``reused`` set and nothing is written, unless ``allow_duplicate``.
    """
    mid = rows.lock_model(c, planned.name, now)
    row = rows.latest_row(c, mid)
    last = 0 if row is None else int(row.number)
    previous = None
    if row is not None:
        # a rerun stores the same artifact: only then is the latest version read in full
        if not allow_duplicate and row.artifact_hash == artifact.hash:
            [latest] = catalog.with_details(c, planned.name, [row])
            if _same_registration(latest, planned, artifact, code, actor):
                return replace(latest, reused=True), None
        previous = versioning.Previous(
            last,
            SemVer(row.major, row.minor, row.patch, row.prerelease),
            row.artifact_hash,
            None if row.signature is None else json.loads(row.signature),
        )
    chosen, why = versioning.choose(
        planned.name,
        previous,
        catalog.highest_semver(c, mid),
        artifact_hash=artifact.hash,
        signature=planned.signature,
        semver=planned.semver,
        bump=planned.bump,
    )
    values = {
        "model_id": mid,
        "number": last + 1,
        "major": chosen.major,
        "minor": chosen.minor,
        "patch": chosen.patch,
        "prerelease": chosen.prerelease,
        "semver_reason": why,
        "stage": "none",
        "stage_event": None,
        "artifact_hash": artifact.hash,
        "artifact_kind": artifact.kind,
        "artifact_name": artifact.name,
        "size": artifact.size,
        "files": artifact.files,
        "flavor": planned.flavor or flavors.infer_flavor(artifact.name, artifact.kind),
        "signature": None if planned.signature is None else json.dumps(planned.signature),
        "description": planned.description,
        "data_refs": json.dumps(list(planned.data)),
        "features_ref": planned.features,
        "run_ref": planned.run,
        "git_commit": code[0],
        "git_dirty": code[1],
        "created_at": now,
        "created_by": actor,
    }
    vid = rows.insert_version(c, values, planned.tags)
    catalog.insert_metrics(c, vid, planned.metrics)
    event = catalog.append_event(
        c, mid, planned.name, action="registered", version=last + 1, actor=actor, at=now,
        to_value=str(chosen), detail={"artifact": artifact.hash, "semver_reason": why},
    )  # fmt: skip
    version = catalog.to_version(planned.name, values, planned.tags, planned.metrics)
    return version, event
