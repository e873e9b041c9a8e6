"""The statements a registration runs, built once: a registration is a handful of indexed
queries and inserts in one transaction, and building SQLAlchemy statements anew each time
would cost more than running them."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from strata.meta.schema import model_tags, model_versions, models
from strata.models import catalog

V = model_versions


@functools.cache
def _statements() -> dict[str, Any]:
    mid: sa.BindParameter[int] = sa.bindparam("mid")
    name: sa.BindParameter[str] = sa.bindparam("name")
    return {
        # the model's row, locked for the transaction (FOR UPDATE on PostgreSQL; SQLite's
        # BEGIN IMMEDIATE serialises writers already)
        "model": sa.select(models.c.id).where(models.c.name == name).with_for_update(),
        "latest": sa.select(V).where(V.c.model_id == mid).order_by(V.c.number.desc()).limit(1),
        "version": V.insert().returning(V.c.id),
        "tags": model_tags.insert(),
    }


def lock_model(c: sa.Connection, name: str, now: datetime) -> int:
    """The id of model ``name``, created if new; its row locked for this transaction."""
    found = c.execute(_statements()["model"], {"name": name}).scalar()
    return int(found) if found is not None else catalog.ensure_model(c, name, now)


def latest_row(c: sa.Connection, mid: int) -> Any:
    """The model's latest version's row, None when it has none."""
    return c.execute(_statements()["latest"], {"mid": mid}).first()


def insert_version(c: sa.Connection, values: Mapping[str, Any], tags: Mapping[str, str]) -> int:
    """A new version's row and its tags; its id."""
    vid = int(c.execute(_statements()["version"], dict(values)).scalar_one())
    if tags:
        rows = [{"version_id": vid, "key": k, "value": v} for k, v in tags.items()]
        c.execute(_statements()["tags"], rows)
    return vid
