"""The registry's queries on the metadata database (``strata.meta.schema``'s model tables).

Every function takes an open connection: the registry decides the transactions. Writers lock
the model's row first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
already serialises writers), so concurrent changes to one model queue up in order.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from strata.errors import ModelNotFoundError, ModelVersionNotFoundError
from strata.meta.schema import (
    model_aliases,
    model_events,
    model_level_tags,
    model_metrics,
    model_tags,
    model_versions,
    models,
)
from strata.models.records import (
    Action,
    Artifact,
    ArtifactKind,
    Event,
    ModelSummary,
    ModelVersion,
    Resolved,
)
from strata.models.semver import order_key
from strata.refs import Alias, Latest, Selector, SemVer, Stage, StageName, Version

V = model_versions


def _insert_model(dialect: str) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(models).on_conflict_do_nothing(index_elements=["name"])
    return sqlite.insert(models).on_conflict_do_nothing(index_elements=["name"])


def find_model(c: sa.Connection, name: str) -> int | None:
    found = c.execute(sa.select(models.c.id).where(models.c.name == name)).scalar()
    return None if found is None else int(found)


def model_id(c: sa.Connection, name: str, *, lock: bool = False) -> int:
    """The id of model ``name``; ModelNotFoundError when it is not registered."""
    query = sa.select(models.c.id).where(models.c.name == name)
    found = c.execute(query.with_for_update() if lock else query).scalar()
    if found is None:
        raise ModelNotFoundError(f"no model named {name!r}")
    return int(found)


def ensure_model(c: sa.Connection, name: str, now: datetime) -> int:
    """The id of model ``name``, created if new; its row locked for this transaction."""
    c.execute(_insert_model(c.dialect.name).values(name=name, created_at=now))
    return model_id(c, name, lock=True)


def describe_model(c: sa.Connection, mid: int, text: str | None) -> str | None:
    old = c.execute(sa.select(models.c.description).where(models.c.id == mid)).scalar()
    c.execute(models.update().where(models.c.id == mid).values(description=text))
    return cast(str | None, old)


# -- versions ---------------------------------------------------------------------------------
def latest_number(c: sa.Connection, mid: int) -> int:
    found = c.execute(sa.select(sa.func.max(V.c.number)).where(V.c.model_id == mid)).scalar()
    return int(found or 0)


def version_row(c: sa.Connection, mid: int, number: int) -> Any:
    query = sa.select(V).where(V.c.model_id == mid, V.c.number == number)
    return c.execute(query).first()


def highest_semver(c: sa.Connection, mid: int) -> SemVer | None:
    """The model's highest semver by precedence: the highest X.Y.Z in SQL (indexed), with
    its release and prereleases, in one query."""
    found = [SemVer(*row) for row in c.execute(_highest_semver_query(), {"mid": mid})]
    return max(found, key=order_key, default=None)


@functools.cache
def _highest_semver_query() -> sa.Select[Any]:
    columns = (V.c.major, V.c.minor, V.c.patch)
    top = (
        sa.select(*columns)
        .where(V.c.model_id == sa.bindparam("mid"))
        .order_by(*(col.desc() for col in columns))
        .limit(1)
        .subquery()
    )
    on = sa.and_(*(col == getattr(top.c, col.name) for col in columns))
    return (
        sa.select(*columns, V.c.prerelease).join(top, on).where(V.c.model_id == sa.bindparam("mid"))
    )


def set_stage(c: sa.Connection, version_id: int, stage: StageName, event_id: int) -> None:
    c.execute(V.update().where(V.c.id == version_id).values(stage=stage, stage_event=event_id))


def holders(c: sa.Connection, mid: int, stage: StageName) -> list[sa.Row[Any]]:
    """The versions in ``stage``, most recently moved there first."""
    query = (
        sa.select(V.c.id, V.c.number)
        .where(V.c.model_id == mid, V.c.stage == stage)
        .order_by(V.c.stage_event.desc())
    )
    return list(c.execute(query))


def set_version_description(c: sa.Connection, version_id: int, text: str | None) -> None:
    c.execute(V.update().where(V.c.id == version_id).values(description=text))


def version_rows(
    c: sa.Connection,
    mid: int,
    stage: StageName | None,
    tags: Mapping[str, str],
    *,
    sort: str,
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[Any]:
    """Versions in ``stage`` with all of ``tags``, by number or creation time, paginated."""
    query = sa.select(V).where(V.c.model_id == mid)
    if stage is not None:
        query = query.where(V.c.stage == stage)
    for key, value in tags.items():
        tagged = sa.select(model_tags.c.version_id).where(
            model_tags.c.key == key, model_tags.c.value == value
        )
        query = query.where(V.c.id.in_(tagged))
    column = V.c.created_at if sort == "created" else V.c.number
    query = query.order_by(column.desc() if descending else column, V.c.number)
    return list(c.execute(query.offset(offset).limit(limit)))


def summaries(c: sa.Connection) -> list[ModelSummary]:
    """Every model with its number of versions, latest version and production holder."""
    counts = (
        sa.select(V.c.model_id, sa.func.count().label("n"), sa.func.max(V.c.number).label("top"))
        .group_by(V.c.model_id)
        .subquery()
    )
    query = (
        sa.select(models, counts.c.n, counts.c.top)
        .join(counts, counts.c.model_id == models.c.id, isouter=True)
        .order_by(models.c.name)
    )
    found = []
    for r in c.execute(query):
        production = holders(c, r.id, "production")
        found.append(
            ModelSummary(
                r.name,
                r.description,
                r.n or 0,
                r.top,
                production[0].number if production else None,
                r.created_at,
            )
        )
    return found


def artifacts(c: sa.Connection) -> list[Artifact]:
    """Every distinct artifact, named by the first version that has it."""
    query = (
        sa.select(models.c.name, V.c.number, V.c.artifact_kind, V.c.artifact_hash, V.c.size)
        .add_columns(V.c.files)
        .join(models, models.c.id == V.c.model_id)
        .order_by(models.c.name, V.c.number)
    )
    seen: dict[str, Artifact] = {}
    for r in c.execute(query):
        kind: ArtifactKind = "directory" if r.artifact_kind == "directory" else "file"
        name = f"model:{r.name}@{r.number}"
        seen.setdefault(r.artifact_hash, Artifact(r.artifact_hash, kind, name, r.size, r.files))
    return list(seen.values())


# -- tags, metrics, aliases -------------------------------------------------------------------
def tags_of(c: sa.Connection, version_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = {i: {} for i in version_ids}
    if version_ids:
        query = sa.select(model_tags).where(model_tags.c.version_id.in_(version_ids))
        for row in c.execute(query.order_by(model_tags.c.key)):
            found[row.version_id][row.key] = row.value
    return found


def metrics_of(c: sa.Connection, version_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    found: dict[int, dict[str, float]] = {i: {} for i in version_ids}
    if version_ids:
        query = sa.select(model_metrics).where(model_metrics.c.version_id.in_(version_ids))
        for row in c.execute(query.order_by(model_metrics.c.key)):
            found[row.version_id][row.key] = row.value
    return found


def aliases_of(c: sa.Connection, version_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {i: [] for i in version_ids}
    if version_ids:
        query = sa.select(model_aliases.c.version_id, model_aliases.c.alias).where(
            model_aliases.c.version_id.in_(version_ids)
        )
        for row in c.execute(query.order_by(model_aliases.c.alias)):
            found[row.version_id].append(row.alias)
    return {i: tuple(a) for i, a in found.items()}


def set_tag(c: sa.Connection, version_id: int, key: str, value: str | None) -> None:
    where = (model_tags.c.version_id == version_id) & (model_tags.c.key == key)
    c.execute(model_tags.delete().where(where))
    if value is not None:
        c.execute(model_tags.insert().values(version_id=version_id, key=key, value=value))


def model_level_tags_of(c: sa.Connection, mid: int) -> dict[str, str]:
    query = sa.select(model_level_tags.c.key, model_level_tags.c.value)
    rows = c.execute(query.where(model_level_tags.c.model_id == mid))
    return {row.key: row.value for row in rows}


def set_model_level_tag(c: sa.Connection, mid: int, key: str, value: str | None) -> None:
    where = (model_level_tags.c.model_id == mid) & (model_level_tags.c.key == key)
    c.execute(model_level_tags.delete().where(where))
    if value is not None:
        c.execute(model_level_tags.insert().values(model_id=mid, key=key, value=value))


def insert_metrics(c: sa.Connection, version_id: int, metrics: Mapping[str, float]) -> None:
    rows = [{"version_id": version_id, "key": k, "value": v} for k, v in metrics.items()]
    if rows:
        c.execute(model_metrics.insert(), rows)


def alias_row(c: sa.Connection, mid: int, alias: str) -> Any:
    query = (
        sa.select(model_aliases.c.protected, V.c.number)
        .join(V, V.c.id == model_aliases.c.version_id)
        .where(model_aliases.c.model_id == mid, model_aliases.c.alias == alias)
    )
    return c.execute(query).first()


def put_alias(
    c: sa.Connection, mid: int, alias: str, version_id: int | None, protected: bool
) -> None:
    where = (model_aliases.c.model_id == mid) & (model_aliases.c.alias == alias)
    c.execute(model_aliases.delete().where(where))
    if version_id is not None:
        c.execute(
            model_aliases.insert().values(
                model_id=mid, alias=alias, version_id=version_id, protected=protected
            )
        )


# -- resolving --------------------------------------------------------------------------------
def _resolve_statements() -> dict[str, sa.Select[Any]]:
    """One statement per kind of selector, built once: resolving is on the serving path, so
    it only binds parameters (``name`` and the selector's value) to a cached query."""
    columns = (V.c.number, V.c.major, V.c.minor, V.c.patch, V.c.prerelease)
    base = (
        sa.select(*columns)
        .join(models, models.c.id == V.c.model_id)
        .where(models.c.name == sa.bindparam("name"))
    )
    semver = base.where(
        V.c.major == sa.bindparam("major"),
        V.c.minor == sa.bindparam("minor"),
        V.c.patch == sa.bindparam("patch"),
    )
    return {
        "number": base.where(V.c.number == sa.bindparam("number")),
        "release": semver.where(V.c.prerelease.is_(None)),
        "prerelease": semver.where(V.c.prerelease == sa.bindparam("prerelease")),
        "stage": base.where(V.c.stage == sa.bindparam("stage"))
        .order_by(V.c.stage_event.desc())
        .limit(1),
        "alias": base.join(model_aliases, model_aliases.c.version_id == V.c.id).where(
            model_aliases.c.alias == sa.bindparam("alias")
        ),
        "latest": base.order_by(V.c.number.desc()).limit(1),
    }


_RESOLVE = _resolve_statements()


def _resolve_query(selector: Selector | None) -> tuple[sa.Select[Any], dict[str, Any]]:
    if isinstance(selector, Version):
        return _RESOLVE["number"], {"number": selector.number}
    if isinstance(selector, SemVer):
        bound = {"major": selector.major, "minor": selector.minor, "patch": selector.patch}
        if selector.prerelease is None:
            return _RESOLVE["release"], bound
        return _RESOLVE["prerelease"], {**bound, "prerelease": selector.prerelease}
    if isinstance(selector, Stage):
        return _RESOLVE["stage"], {"stage": selector.name}
    if isinstance(selector, Alias):
        return _RESOLVE["alias"], {"alias": selector.name}
    if selector is None or isinstance(selector, Latest):
        return _RESOLVE["latest"], {}
    raise TypeError(f"not a model selector: {selector!r}")


def resolve(c: sa.Connection, name: str, selector: Selector | None) -> Resolved | None:
    """The version a selector points to now, in one indexed query; None when none."""
    statement, bound = _resolve_query(selector)
    row = c.execute(statement, {"name": name, **bound}).first()
    if row is None:
        return None
    return Resolved(name, row.number, SemVer(row.major, row.minor, row.patch, row.prerelease))


def version_id(c: sa.Connection, mid: int, number: int, name: str) -> int:
    found = c.execute(sa.select(V.c.id).where(V.c.model_id == mid, V.c.number == number)).scalar()
    if found is None:
        raise ModelVersionNotFoundError(f"model {name!r} has no version {number}")
    return int(found)


# -- building records -------------------------------------------------------------------------
def to_version(
    name: str,
    row: Mapping[str, Any] | sa.RowMapping,
    tags: dict[str, str] | None = None,
    metrics: dict[str, float] | None = None,
    aliases: tuple[str, ...] = (),
) -> ModelVersion:
    """A version record from a ``model_versions`` row (or the values inserted as one)."""
    return ModelVersion(
        name=name,
        number=row["number"],
        semver=SemVer(row["major"], row["minor"], row["patch"], row["prerelease"]),
        semver_reason=row["semver_reason"],
        stage=cast(StageName, row["stage"]),
        artifact_hash=row["artifact_hash"],
        artifact_kind=cast(ArtifactKind, row["artifact_kind"]),
        artifact_name=row["artifact_name"],
        size=row["size"],
        files=row["files"],
        flavor=row["flavor"],
        signature=None if row["signature"] is None else json.loads(row["signature"]),
        description=row["description"],
        data=tuple(json.loads(row["data_refs"])),
        features=row["features_ref"],
        run=row["run_ref"],
        git_commit=row["git_commit"],
        git_dirty=row["git_dirty"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        tags=tags or {},
        metrics=metrics or {},
        aliases=aliases,
    )


def with_details(c: sa.Connection, name: str, rows: Sequence[sa.Row[Any]]) -> list[ModelVersion]:
    """Versions with their tags, metrics and aliases, three queries for any number of rows."""
    ids = [r.id for r in rows]
    tags, metrics, aliases = tags_of(c, ids), metrics_of(c, ids), aliases_of(c, ids)
    return [to_version(name, r._mapping, tags[r.id], metrics[r.id], aliases[r.id]) for r in rows]


# -- the audit trail --------------------------------------------------------------------------
def append_event(
    c: sa.Connection,
    mid: int,
    name: str,
    *,
    action: Action,
    version: int | None,
    actor: str,
    at: datetime,
    subject: str | None = None,
    from_value: str | None = None,
    to_value: str | None = None,
    reason: str | None = None,
    forced: bool = False,
    detail: dict[str, Any] | None = None,
) -> Event:
    values = {
        "model_id": mid,
        "version": version,
        "action": action,
        "subject": subject,
        "from_value": from_value,
        "to_value": to_value,
        "actor": actor,
        "reason": reason,
        "forced": forced,
        "detail": None if detail is None else json.dumps(detail, sort_keys=True),
        "at": at,
    }
    event_id = c.execute(_insert_event(), values).scalar_one()
    return _event(name, {**values, "id": event_id})


@functools.cache
def _insert_event() -> sa.Insert:
    return model_events.insert().returning(model_events.c.id)


def _event(name: str, row: Mapping[str, Any]) -> Event:
    return Event(
        id=int(row["id"]),
        model=name,
        version=row["version"],
        action=row["action"],
        subject=row["subject"],
        from_value=row["from_value"],
        to_value=row["to_value"],
        actor=row["actor"],
        reason=row["reason"],
        forced=bool(row["forced"]),
        detail=None if row["detail"] is None else json.loads(row["detail"]),
        at=row["at"],
    )


def events(
    c: sa.Connection,
    mid: int,
    name: str,
    *,
    until: datetime | None = None,
    actions: Sequence[Action] = (),
    version: int | None = None,
) -> list[Event]:
    """The model's trail in the order it was written, optionally up to an instant."""
    query = sa.select(model_events).where(model_events.c.model_id == mid)
    if version is not None:
        query = query.where(model_events.c.version == version)
    if until is not None:
        query = query.where(model_events.c.at <= until)
    if actions:
        query = query.where(model_events.c.action.in_(actions))
    return [
        _event(name, dict(row._mapping)) for row in c.execute(query.order_by(model_events.c.id))
    ]


def recent_events(
    c: sa.Connection,
    *,
    mid: int | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[Event]:
    """The trail across models (or of model ``mid``), newest first, from ``since`` on."""
    query = sa.select(model_events, models.c.name.label("model_name")).join(
        models, models.c.id == model_events.c.model_id
    )
    if mid is not None:
        query = query.where(model_events.c.model_id == mid)
    if since is not None:
        query = query.where(model_events.c.at >= since)
    query = query.order_by(model_events.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [_event(row.model_name, dict(row._mapping)) for row in c.execute(query)]
