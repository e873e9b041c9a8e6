"""The model registry: ``ws.models``.

    reg = ws.models
    v = reg.register("delay-classifier", "model.skops", metrics={"auc": 0.91},
                     data=["table:deliveries@47"])
    reg.promote("model:delay-classifier@1", "staging")
    reg.promote("model:delay-classifier@1", "production", reason="beats v0 offline")
    reg.resolve("model:delay-classifier@production")        # → Resolved(number=1, …)
    reg.rollback("delay-classifier", reason="latency regression")

Every change is one transaction that locks the model's row and appends to the audit trail;
webhooks are posted after it commits.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from strata.activity import Activity, NoActivity
from strata.config import STRATA_DIR, Config
from strata.errors import AlreadyExistsError, ModelVersionNotFoundError, UserInputError
from strata.models import artifacts, catalog, flavors, registering, trail, transitions
from strata.models import semver as versioning
from strata.models import signature as signatures
from strata.models.gates import Gates
from strata.models.provenance import code_version
from strata.models.records import (
    Artifact,
    Event,
    ModelSummary,
    ModelVersion,
    Resolved,
    Transition,
)
from strata.models.webhooks import Hook, hooks_from_config, notify
from strata.objects.deposits import Deposits, deposits
from strata.objects.store import ObjectStore
from strata.refs import STAGES, Alias, Ref, StageName, Version, parse_ref
from strata.scm import Git, user_identity

if TYPE_CHECKING:
    import sqlalchemy as sa

    from strata.meta import MetadataDB

SORTS = ("number", "semver", "created")


def _now() -> datetime:
    return datetime.now(UTC)


def model_ref(ref: str | Ref) -> Ref:
    return parse_ref(ref, expect="model") if isinstance(ref, str) else ref


def parse_stage(text: str) -> StageName:
    lowered = text.strip().lower()
    for stage in STAGES:
        if lowered == stage:
            return stage
    raise UserInputError(f"unknown stage {text!r}", hint=f"use one of {', '.join(STAGES)}")


def _need_reason(force: bool, reason: str | None, what: str) -> None:
    if force and not (reason and reason.strip()):
        raise UserInputError(f"{what} with --force needs --reason", hint="say why; it is recorded")


class RegistrationLinks(Protocol):
    """What the workspace does around a registration, with the capabilities the registry
    cannot reach: data and feature refs made exact (``table:x@latest`` → ``table:x@47``)
    and the data prepared for pinning before; with the version's rows, in its transaction,
    the data pinned and the lineage edges recorded."""

    def exact(self, ref: str) -> str: ...

    def prepare(self, refs: Sequence[str]) -> None: ...

    def record(self, connection: sa.Connection, version: ModelVersion) -> None: ...

    def rollback_problems(self, name: str) -> list[str]: ...


class Registry:
    def __init__(
        self,
        db: MetadataDB,
        store: ObjectStore,
        config: Config,
        activity: Activity | None = None,
        *,
        git: Git | None = None,
        clock: Callable[[], datetime] = _now,
        links: RegistrationLinks | None = None,
    ) -> None:
        self._db = db
        self._store = store
        self._config = config
        self._links = links
        self._activity: Activity = activity or NoActivity()
        self._git = git
        self._clock = clock
        self._scratch = config.root / STRATA_DIR / "tmp" / "models"
        self._actor: str | None = None  # set by acting_as
        self._context: dict[str, str] = {}  # kept in every event's detail

    @property
    def actor(self) -> str:
        """Who the trail names for this registry's changes."""
        return self._actor if self._actor is not None else self._own_identity

    @cached_property
    def _own_identity(self) -> str:
        return user_identity(self._config.root)

    def acting_as(self, user: str, *, client: str | None = None) -> Registry:
        """This registry, its changes recorded as ``user`` and, when given, with the
        ``client`` address in each event's detail: what a server hands each request. The
        copy shares the database and the store; this registry is left as it is."""
        acting = copy.copy(self)
        acting._actor = user
        acting._context = {} if client is None else {"client": client}
        return acting

    @cached_property
    def hooks(self) -> tuple[Hook, ...]:
        return hooks_from_config(self._config.values)

    @contextmanager
    def _change(self, name: str, doing: str) -> Iterator[transitions.Change]:
        """A write transaction on model ``name`` (its row locked); webhooks after commit."""
        with self._db.transaction(f"cannot {doing}", write=True) as c:
            change = transitions.Change.open(
                c, name, self.actor, self._clock(), context=self._context
            )
            yield change
        if self.hooks and change.events:
            notify(self.hooks, change.events)

    # -- registering --------------------------------------------------------------------------
    def register(
        self,
        name: str,
        path: str | Path | artifacts.StoredFolder,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        metrics: Mapping[str, float] | None = None,
        data: Iterable[str] = (),
        features: str | None = None,
        run: str | None = None,
        semver: str | None = None,
        bump: str | None = None,
        signature: Mapping[str, Any] | None = None,
        sample_input: object = None,
        sample_output: object = None,
        flavor: str | None = None,
        allow_duplicate: bool = False,
    ) -> ModelVersion:
        """Store ``path`` (a file or folder, or a folder already in the store) as the next
        version of model ``name``.

        The semver is ``semver``, else ``bump`` applied to the highest one, else inferred
        from the signature (given, or inferred from ``sample_input``) and the artifact bytes
        against the latest version. ``run`` defaults to the run in progress.

        Registering again exactly what the latest version holds (a rerun after an interrupted
        registration) returns that version with ``reused`` set, unless ``allow_duplicate``.
        """
        if signature is None and sample_input is not None:
            signature = signatures.infer(sample_input, sample_output)
        planned = registering.plan(
            name, tags=tags, metrics=metrics, data=data, features=features,
            run=run if run is not None else self._activity.run_id(), semver=semver, bump=bump,
            signature=signature, flavor=flavor, description=description,
        )  # fmt: skip
        if self._links is not None:  # checked refs, made exact: table:x@latest → @47
            planned = replace(
                planned,
                data=tuple(dict.fromkeys(self._links.exact(ref) for ref in planned.data)),
                features=self._links.exact(planned.features) if planned.features else None,
                run=self._links.exact(planned.run) if run and planned.run else planned.run,
            )
        if planned.semver is not None:
            with self._db.transaction(f"cannot read model {name!r}", write=False) as c:
                registering.check_semver(c, planned)
        if self._links is not None:
            linked = (*planned.data, planned.features, planned.run)
            self._links.prepare([ref for ref in linked if ref is not None])
        with deposits(self._store) as batch:
            if isinstance(path, artifacts.StoredFolder):
                artifact = artifacts.prepare_stored(self._store, batch, path)
            else:
                artifact = artifacts.prepare(batch, Path(path))
            version, event = self._insert(batch, planned, artifact, allow_duplicate)
        self._activity.wrote(version.ref)
        if event is not None and self.hooks:
            notify(self.hooks, [event])
        return version

    def _insert(
        self, batch: Deposits, planned: registering.Plan, artifact: Artifact, duplicate: bool
    ) -> tuple[ModelVersion, Event | None]:
        """The artifact's objects made durable by one barrier, then the version's rows in one
        transaction: a crash leaves no row naming an object that is not on disk. (Overlapping
        the barrier with the rows' queries in a thread costs more in handing over the GIL
        than it saves: the queries take a fraction of a millisecond.)"""
        batch.commit()
        code = code_version(self._git)
        with self._db.transaction(f"cannot register model {planned.name!r}", write=True) as c:
            version, event = registering.insert(
                c, planned, artifact, code, self.actor, self._clock(), allow_duplicate=duplicate
            )
            if event is not None and self._links is not None:
                self._links.record(c, version)
        return version, event

    def create_model(self, name: str, *, description: str | None = None) -> ModelSummary:
        """A model with no version yet (what an MLflow client creates before registering);
        AlreadyExistsError when the name is taken."""
        registering.check_name(name)
        with self._db.transaction(f"cannot create model {name!r}", write=True) as c:
            if catalog.find_model(c, name) is not None:
                raise AlreadyExistsError(f"model {name!r} exists already")
            catalog.describe_model(c, catalog.ensure_model(c, name, self._clock()), description)
        return next(m for m in self.list_models() if m.name == name)

    # -- reading ------------------------------------------------------------------------------
    def resolve(self, ref: str | Ref, *, at: datetime | None = None) -> Resolved:
        """The exact version a ref names now (one indexed query), or at instant ``at``
        (answered from the audit trail; a naive instant is local time)."""
        parsed = model_ref(ref)
        with self._db.transaction(f"cannot resolve {parsed}", write=False) as c:
            if at is None:
                found = catalog.resolve(c, parsed.name, parsed.selector)
            else:
                at = at if at.tzinfo is not None else at.astimezone()
                events = catalog.events(c, catalog.model_id(c, parsed.name), parsed.name, until=at)
                number = trail.number_at(events, parsed.selector)
                found = None if number is None else catalog.resolve(c, parsed.name, Version(number))
            if found is None:
                catalog.model_id(c, parsed.name)  # an unknown model says so
        if found is None:
            when = "" if at is None else f" at {at.isoformat()}"
            raise ModelVersionNotFoundError(f"{parsed} names no version{when}")
        return found

    def show(self, ref: str | Ref) -> ModelVersion:
        """One version with its tags, metrics, aliases and why it got its semver."""
        found = self.resolve(ref)
        with self._db.transaction(f"cannot read {found.ref}", write=False) as c:
            row = catalog.version_row(c, catalog.model_id(c, found.name), found.number)
            return catalog.with_details(c, found.name, [row])[0]

    def list_models(self) -> list[ModelSummary]:
        """Every registered model with its version count, latest and production versions."""
        with self._db.transaction("cannot list models", write=False) as c:
            return catalog.summaries(c)

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
        """Versions of one model, filtered by stage, tags (all must match) and a semver range
        like ``>=1.0.0,<2.0.0``; sorted by number, semver or creation time; paginated."""
        if sort not in SORTS:
            raise UserInputError(f"bad sort {sort!r}", hint=f"use one of {', '.join(SORTS)}")
        if offset < 0 or (limit is not None and limit < 0):
            raise UserInputError("--limit and --offset are not negative")
        in_range = None if semver_range is None else versioning.range_filter(semver_range)
        wanted = None if stage is None else parse_stage(stage)
        with self._db.transaction(f"cannot list versions of {name!r}", write=False) as c:
            mid = catalog.model_id(c, name)
            if in_range is None and sort != "semver":
                page = catalog.version_rows(
                    c, mid, wanted, tags or {}, sort=sort, descending=descending,
                    limit=limit, offset=offset,
                )  # fmt: skip
            else:
                rows = catalog.version_rows(c, mid, wanted, tags or {}, sort="number")
                page = versioning.sort_and_page(rows, in_range, sort, descending, limit, offset)
            return catalog.with_details(c, name, page)

    def history(self, name: str, *, version: int | None = None) -> list[Event]:
        """The model's audit trail, oldest first (one version's events when given)."""
        with self._db.transaction(f"cannot read the history of {name!r}", write=False) as c:
            return catalog.events(c, catalog.model_id(c, name), name, version=version)

    def audit(
        self,
        *,
        model: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """The trail across every model (or one), newest first; ``since`` an instant (a naive
        one is local time), ``limit`` the newest N."""
        if limit is not None and limit < 0:
            raise UserInputError("the limit is not negative")
        if since is not None and since.tzinfo is None:
            since = since.astimezone()
        with self._db.transaction("cannot read the registry trail", write=False) as c:
            mid = None if model is None else catalog.model_id(c, model)
            return catalog.recent_events(c, mid=mid, since=since, limit=limit)

    # -- artifacts ----------------------------------------------------------------------------
    def download(self, ref: str | Ref, out: str | Path) -> Path:
        """Write the artifact of a version to ``out`` (a new path), every object verified
        first: a corrupt artifact writes nothing."""
        version = self.show(ref)
        target = Path(out)
        artifacts.check_destination(target)
        placements = artifacts.verify(
            self._store, version.artifact_hash, version.artifact_kind, what=version.ref
        )
        artifacts.materialise(self._store, placements, target)
        self._activity.read(version.ref)
        return target

    def path(self, ref: str | Ref) -> Path:
        """A verified local copy of a version's artifact (kept under .strata/tmp/models)."""
        return self._local_copy(self.show(ref))

    def _local_copy(self, version: ModelVersion) -> Path:
        placements = artifacts.verify(
            self._store, version.artifact_hash, version.artifact_kind, what=version.ref
        )
        target = self._scratch / version.artifact_hash / version.artifact_name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            artifacts.materialise(self._store, placements, target)
        self._activity.read(version.ref)
        return target

    def load(self, ref: str | Ref, *, trust: bool = False) -> Any:
        """The loaded model for known flavors, else the path of its verified local copy."""
        version = self.show(ref)
        flavors.check_trusted(version.flavor, trust=trust, what=version.ref)
        path = self._local_copy(version)
        return flavors.load(path, version.flavor, trust=trust, what=version.ref)

    def artifacts(self) -> list[Artifact]:
        """Every distinct registered artifact, named by the first version that has it."""
        with self._db.transaction("cannot list model artifacts", write=False) as c:
            return catalog.artifacts(c)

    def tag_values(self, key: str) -> list[str]:
        """Every distinct value of tag ``key`` over all versions of all models (one query)."""
        import sqlalchemy as sa

        from strata.meta.schema import model_tags as T

        query = sa.select(T.c.value).where(T.c.key == key).distinct().order_by(T.c.value)
        with self._db.transaction("cannot read model tags", write=False) as c:
            return list(c.execute(query).scalars())

    def artifact_objects(self) -> list[str]:
        """Every object a registered version needs (what gc keeps)."""
        needed: list[str] = []
        for found in self.artifacts():
            if found.kind == "directory" and not self._store.exists(found.hash):
                needed.append(found.hash)  # the files it lists are known once it is fetched
            else:
                needed += artifacts.objects_of(self._store, found.hash, found.kind, what=found.name)
        return needed

    # -- changing -----------------------------------------------------------------------------
    def promote(
        self,
        ref: str | Ref,
        stage: str,
        *,
        reason: str | None = None,
        keep_existing: bool = False,
        force: bool = False,
    ) -> Transition:
        """Move a version to ``stage``; the versions that held staging or production are
        archived unless ``keep_existing``. Configured gates must pass, or ``force`` with a
        reason overrides them (recorded)."""
        parsed, target = model_ref(ref), parse_stage(stage)
        _need_reason(force, reason, f"promoting {parsed}")
        gates = Gates.from_config(self._config.values, target)
        problems: list[str] = []
        if target == "production" and self._links is not None:
            problems = self._links.rollback_problems(parsed.name)
        with self._change(parsed.name, f"promote {parsed}") as change:
            version = change.version(parsed)
            transitions.promote(
                change, version, target, gates, reason=reason,
                keep_existing=keep_existing, force=force, rollback_problems=problems,
            )  # fmt: skip
        warnings = tuple(f"a rollback from it would not work: {p}" for p in problems)
        return Transition(version.ref, tuple(change.events), warnings)

    def rollback(
        self,
        name: str,
        *,
        to: int | str | None = None,
        reason: str | None = None,
        evidence: Mapping[str, Any] | None = None,
    ) -> Transition:
        """Put back the version that held Production before the current one (from the audit
        trail), or version ``to``, and archive the current one, in one transaction; the
        trail keeps ``evidence`` (e.g. the guard's fired conditions and metrics)."""
        with self._change(name, f"roll back model {name!r}") as change:
            target = None if to is None else str(to)
            number = transitions.rollback(change, to=target, reason=reason, evidence=evidence)
        return Transition(f"model:{name}@{number}", tuple(change.events))

    def set_alias(
        self,
        ref: str | Ref,
        alias: str,
        *,
        protected: bool = False,
        force: bool = False,
        reason: str | None = None,
    ) -> Transition:
        """Point ``alias`` at a version; a protected alias moves only with force and a reason."""
        parsed, name = model_ref(ref), Alias(alias).name
        _need_reason(force, reason, f"moving alias {name!r}")
        with self._change(parsed.name, f"set alias {name!r}") as change:
            version = change.version(parsed)
            transitions.set_alias(
                change, version, name, protected=protected, force=force, reason=reason
            )
        return Transition(version.ref, tuple(change.events))

    def remove_alias(
        self, name: str, alias: str, *, force: bool = False, reason: str | None = None
    ) -> Transition:
        _need_reason(force, reason, f"removing alias {alias!r}")
        with self._change(name, f"remove alias {alias!r}") as change:
            transitions.remove_alias(change, alias, force=force, reason=reason)
        return Transition(f"model:{name}", tuple(change.events))

    def tag(
        self,
        ref: str | Ref,
        tags: Mapping[str, str] | None = None,
        *,
        remove: Iterable[str] = (),
        reason: str | None = None,
    ) -> Transition:
        """Set and remove tags of a version; each change is an event."""
        parsed = model_ref(ref)
        check = registering.check_key
        wanted: dict[str, str | None] = {check(k, "tag"): str(v) for k, v in (tags or {}).items()}
        wanted.update({check(k, "tag"): None for k in remove})
        with self._change(parsed.name, f"tag {parsed}") as change:
            version = change.version(parsed)
            transitions.tag(change, version, wanted, reason)
        return Transition(version.ref, tuple(change.events))

    def tag_model(
        self, name: str, tags: Mapping[str, str], *, remove: Iterable[str] = ()
    ) -> Transition:
        """Set and remove tags of the model itself (not of a version); each change an event."""
        check = registering.check_key
        wanted: dict[str, str | None] = {check(k, "tag"): str(v) for k, v in tags.items()}
        wanted.update({check(k, "tag"): None for k in remove})
        with self._change(name, f"tag model {name!r}") as change:
            transitions.tag_model(change, wanted, None)
        return Transition(f"model:{name}", tuple(change.events))

    def model_tags(self, name: str) -> dict[str, str]:
        with self._db.transaction(f"cannot read model {name!r}", write=False) as c:
            return catalog.model_level_tags_of(c, catalog.model_id(c, name))

    def describe(self, ref: str | Ref, text: str, *, reason: str | None = None) -> Transition:
        """Set the description of a model (``model:NAME``) or of one version."""
        parsed = model_ref(ref)
        with self._change(parsed.name, f"describe {parsed}") as change:
            number = transitions.describe(change, parsed, text, reason)
        described = parsed.name if number is None else f"{parsed.name}@{number}"
        return Transition(f"model:{described}", tuple(change.events))
