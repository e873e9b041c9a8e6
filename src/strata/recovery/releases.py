"""Releases: a named set of the code, model, table, file and feature versions that ship together.

Creating a release pins every table version in it (``release:NAME``), so vacuum never takes
its data away. Rolling a release back puts the model stages and aliases and the table versions
back in one step; the code and the file pointers live in git, so the git command that restores
them is printed rather than run. A rollback that fails halfway undoes the steps it already
took, newest first, and says so.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from strata.errors import GuardError, StrataError, UserInputError
from strata.refs import parse_ref

if TYPE_CHECKING:
    from strata.meta import MetadataDB
    from strata.models import Registry
    from strata.tables import TableCatalog

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_TRACKED_STAGES = ("production", "staging")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    version: int
    stage: str
    aliases: tuple[str, ...]

    @property
    def ref(self) -> str:
        return f"model:{self.name}@{self.version}"


@dataclass(frozen=True)
class Release:
    name: str
    created_at: datetime
    created_by: str
    description: str
    commit: str | None
    models: tuple[ModelEntry, ...] = ()
    tables: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    features: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"release:{self.name}"

    def content(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "models": [
                {"name": m.name, "version": m.version, "stage": m.stage, "aliases": list(m.aliases)}
                for m in self.models
            ],
            "tables": self.tables,
            "files": self.files,
            "features": list(self.features),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Release:
        """The release ``to_json`` gave (what a server answers)."""
        models = tuple(
            ModelEntry(m["name"], int(m["version"]), m["stage"], tuple(m["aliases"]))
            for m in data["models"]
        )
        return cls(
            data["name"], datetime.fromisoformat(data["created_at"]), data["created_by"],
            data["description"], data["commit"], models, dict(data["tables"]),
            dict(data["files"]), tuple(data["features"]),
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "description": self.description,
            **self.content(),
        }


@dataclass
class RollbackStep:
    description: str
    undo: Callable[[], object]


@dataclass
class ReleaseRollback:
    release: str
    steps: list[str]
    git_command: str | None

    def to_json(self) -> dict[str, Any]:
        return {"release": self.release, "steps": self.steps, "git_command": self.git_command}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReleaseRollback:
        return cls(data["release"], list(data["steps"]), data["git_command"])


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise UserInputError(
            f"{name!r} is not a release name",
            hint="use letters, digits, dots, dashes and underscores, e.g. 2024.10.15",
        )


class Releases:
    """Create, read, compare and roll back releases of one workspace."""

    def __init__(
        self,
        db: MetadataDB,
        registry: Registry,
        tables: TableCatalog,
        *,
        tracked_files: Callable[[], dict[str, str]],
        git_head: Callable[[], str | None],
    ) -> None:
        self._db = db
        self._registry = registry
        self._tables = tables
        self._tracked_files = tracked_files  # path → content hash of the working tree's pointers
        self._git_head = git_head  # the commit checked out, None outside git

    def acting_with(self, registry: Registry, tables: TableCatalog) -> Releases:
        """These releases, their changes made through ``registry`` and ``tables``."""
        acting = copy.copy(self)
        acting._registry, acting._tables = registry, tables
        return acting

    # -- creating -------------------------------------------------------------------------
    def create(
        self,
        name: str,
        *,
        models: Sequence[str] = (),
        tables: Sequence[str] = (),
        features: Sequence[str] = (),
        description: str = "",
    ) -> Release:
        """Record a release. Without ``models``, every model's staging and production versions
        (with their aliases); without ``tables``, every table's latest version; the tracked
        paths of the working tree and the git commit always."""
        _check_name(name)
        if self._find(name) is not None:
            raise UserInputError(
                f"release {name} exists already", hint="releases are immutable; pick a new name"
            )
        release = Release(
            name=name,
            created_at=datetime.now(UTC),
            created_by=self._registry.actor,
            description=description,
            commit=self._git_head(),
            models=tuple(self._model_entries(models)),
            tables=self._table_versions(tables),
            files=self._tracked_files(),
            features=tuple(self._features(features)),
        )
        for table, version in release.tables.items():
            self._tables.pin(table, version, by=release.ref)
        try:
            self._insert(release)
        except BaseException:
            for table, version in release.tables.items():
                self._tables.unpin(table, version, by=release.ref)
            raise
        return release

    def _model_entries(self, refs: Sequence[str]) -> list[ModelEntry]:
        registry = self._registry
        if refs:
            versions = [registry.show(ref) for ref in refs]
        else:
            versions = [
                v
                for summary in registry.list_models()
                for stage in _TRACKED_STAGES
                for v in registry.versions(summary.name, stage=stage)
            ]
        entries = {(v.name, v.number): v for v in versions}
        return [
            ModelEntry(v.name, v.number, v.stage, tuple(v.aliases))
            for v in sorted(entries.values(), key=lambda v: (v.name, v.number))
        ]

    def _table_versions(self, refs: Sequence[str]) -> dict[str, int]:
        catalog = self._tables
        if refs:
            found = [catalog.version_of(ref) for ref in refs]
            return {table.name: version for table, version in found}
        return {info.name: catalog.open(info.name).latest_version() for info in catalog.list()}

    def _features(self, refs: Sequence[str]) -> list[str]:
        for ref in refs:
            parse_ref(ref, expect="features")
        return list(refs)

    def _insert(self, release: Release) -> None:
        from strata.meta.schema import releases

        row = {
            "name": release.name,
            "created_at": release.created_at,
            "created_by": release.created_by,
            "description": release.description,
            "content_json": json.dumps(release.content(), sort_keys=True),
        }
        with self._db.transaction(f"cannot record release {release.name}", write=True) as c:
            c.execute(releases.insert(), row)

    # -- reading --------------------------------------------------------------------------
    def _find(self, name: str) -> Release | None:
        import sqlalchemy as sa

        from strata.meta.schema import releases

        query = sa.select(releases).where(releases.c.name == name)
        with self._db.transaction("cannot read releases", write=False) as c:
            row = c.execute(query).first()
        return None if row is None else _release_of(row)

    def get(self, name: str) -> Release:
        text = name.removeprefix("release:")
        _check_name(text)
        found = self._find(text)
        if found is None:
            raise UserInputError(
                f"there is no release {text}", hint="see them with `strata release list`"
            )
        return found

    def all(self) -> list[Release]:
        import sqlalchemy as sa

        from strata.meta.schema import releases

        query = sa.select(releases).order_by(releases.c.created_at, releases.c.id)
        with self._db.transaction("cannot read releases", write=False) as c:
            return [_release_of(row) for row in c.execute(query)]

    def diff(self, a: str, b: str) -> dict[str, Any]:
        """What differs between two releases: per model, table, file and the commit."""
        old, new = self.get(a), self.get(b)
        old_models = {m.name: m for m in old.models if m.stage == "production"}
        new_models = {m.name: m for m in new.models if m.stage == "production"}
        return {
            "from": old.ref,
            "to": new.ref,
            "commit": _changed(old.commit, new.commit),
            "models": _dict_diff(
                {n: m.version for n, m in old_models.items()},
                {n: m.version for n, m in new_models.items()},
            ),
            "tables": _dict_diff(old.tables, new.tables),
            "files": _dict_diff(old.files, new.files),
            "features": _changed(sorted(old.features), sorted(new.features)),
        }

    # -- rolling back ---------------------------------------------------------------------
    def rollback(self, name: str, *, reason: str | None = None) -> ReleaseRollback:
        """Put model stages, aliases and table versions back to ``name``, all or nothing."""
        release = self.get(name)
        why = f"release rollback to {release.name}" + (f": {reason}" if reason else "")
        done: list[RollbackStep] = []
        try:
            for entry in release.models:
                done.extend(self._restore_model(entry, why))
            for table, version in sorted(release.tables.items()):
                step = self._restore_table(table, version, why)
                if step is not None:
                    done.append(step)
        except StrataError as exc:
            undone = self._undo(done)
            raise GuardError(
                f"release rollback to {release.name} failed: {exc.one_line()}; "
                f"undid {undone} of {len(done)} steps already taken",
                hint="fix the cause and roll back again; nothing stays half done",
            ) from exc
        git_command = None
        if release.commit is not None:
            git_command = f"git checkout {release.commit[:12]} && strata checkout"
        return ReleaseRollback(release.ref, [s.description for s in done], git_command)

    def _restore_model(self, entry: ModelEntry, why: str) -> list[RollbackStep]:
        registry = self._registry
        steps: list[RollbackStep] = []
        current = registry.show(entry.ref)
        if current.stage != entry.stage and entry.stage in _TRACKED_STAGES:
            holders = [v.number for v in registry.versions(entry.name, stage=entry.stage)]
            previous_stage = current.stage
            registry.promote(entry.ref, entry.stage, reason=why, force=True)

            def undo_promotion(
                ref: str = entry.ref, stage: str = previous_stage, held: Sequence[int] = holders
            ) -> None:
                for number in held:
                    registry.promote(
                        f"model:{entry.name}@{number}",
                        entry.stage,
                        reason=f"undo: {why}",
                        keep_existing=True,
                        force=True,
                    )
                registry.promote(ref, stage, reason=f"undo: {why}", force=True)

            steps.append(RollbackStep(f"{entry.ref} → {entry.stage}", undo_promotion))
        for alias in entry.aliases:
            try:
                before: int | None = registry.resolve(f"model:{entry.name}@{alias}").number
            except StrataError:
                before = None
            if before == entry.version:
                continue
            registry.set_alias(entry.ref, alias, force=True, reason=why)

            def undo_alias(alias: str = alias, before: int | None = before) -> None:
                if before is None:
                    registry.remove_alias(entry.name, alias, force=True, reason=f"undo: {why}")
                else:
                    registry.set_alias(
                        f"model:{entry.name}@{before}", alias, force=True, reason=f"undo: {why}"
                    )

            steps.append(RollbackStep(f"alias {alias} → {entry.ref}", undo_alias))
        return steps

    def _restore_table(self, name: str, version: int, why: str) -> RollbackStep | None:
        table = self._tables.open(name)
        before = table.latest_version()
        if before == version or table.files(before) == table.files(version):
            return None  # the table holds that version's data already
        result = table.restore(version, message=why)

        def undo() -> None:
            table.restore(before, message=f"undo: {why}")

        return RollbackStep(f"table:{name}@{version} restored as {result.ref}", undo)

    @staticmethod
    def _undo(steps: Sequence[RollbackStep]) -> int:
        undone = 0
        for step in reversed(steps):
            try:
                step.undo()
                undone += 1
            except StrataError:
                continue  # reported through the count; the remaining undos still run
        return undone


def _release_of(row: Any) -> Release:
    content = json.loads(row.content_json)
    return Release(
        name=row.name,
        created_at=row.created_at,
        created_by=row.created_by,
        description=row.description,
        commit=content.get("commit"),
        models=tuple(
            ModelEntry(m["name"], int(m["version"]), m["stage"], tuple(m.get("aliases", ())))
            for m in content.get("models", ())
        ),
        tables={k: int(v) for k, v in content.get("tables", {}).items()},
        files=dict(content.get("files", {})),
        features=tuple(content.get("features", ())),
    )


def _changed(old: object, new: object) -> dict[str, object] | None:
    return None if old == new else {"old": old, "new": new}


def _dict_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        key: {"old": old.get(key), "new": new.get(key)}
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    }
