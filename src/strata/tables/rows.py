"""Queries on the catalog's tables in the metadata database (``table_catalog``,
``table_pins``, ``table_stats``). Each function takes a Connection in a transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from strata.meta.schema import table_catalog, table_pins, table_stats
from strata.tables.records import Format, Pin, TableInfo
from strata.tables.stats import TableStats


def _info(row: sa.Row[tuple[object, ...]]) -> TableInfo:
    mapping = row._mapping
    return TableInfo(
        name=cast(str, mapping["name"]),
        format=cast(Format, mapping["format"]),
        location=cast(str, mapping["location"]),
        origin="registered" if mapping["origin"] == "registered" else "created",
        created_at=cast(datetime, mapping["created_at"]),
    )


def get(connection: sa.Connection, name: str) -> TableInfo | None:
    row = connection.execute(sa.select(table_catalog).where(table_catalog.c.name == name)).first()
    return None if row is None else _info(row)


def all_tables(connection: sa.Connection) -> list[TableInfo]:
    rows = connection.execute(sa.select(table_catalog).order_by(table_catalog.c.name))
    return [_info(row) for row in rows]


def insert(connection: sa.Connection, info: TableInfo) -> None:
    connection.execute(
        sa.insert(table_catalog).values(
            name=info.name,
            format=info.format,
            location=info.location,
            origin=info.origin,
            created_at=info.created_at,
        )
    )


def delete(connection: sa.Connection, name: str) -> None:
    table_id = _id(connection, name)
    connection.execute(sa.delete(table_pins).where(table_pins.c.table_id == table_id))
    connection.execute(sa.delete(table_stats).where(table_stats.c.table_id == table_id))
    connection.execute(sa.delete(table_catalog).where(table_catalog.c.id == table_id))


def rename(connection: sa.Connection, name: str, new: str) -> None:
    """Pins and stats follow: they refer to the table by its id."""
    connection.execute(
        sa.update(table_catalog).where(table_catalog.c.name == name).values(name=new)
    )


def _id(connection: sa.Connection, name: str) -> int:
    found = connection.execute(
        sa.select(table_catalog.c.id).where(table_catalog.c.name == name)
    ).scalar_one()
    return int(found)


# -- pins -------------------------------------------------------------------------------------
def add_pin(connection: sa.Connection, name: str, version: int, by: str, now: datetime) -> bool:
    """Pin ``version`` for ``by``; False when that pin existed already."""
    table_id = _id(connection, name)
    exists = connection.execute(
        sa.select(table_pins.c.id).where(
            table_pins.c.table_id == table_id,
            table_pins.c.version == version,
            table_pins.c.pinned_by == by,
        )
    ).first()
    if exists is not None:
        return False
    connection.execute(
        sa.insert(table_pins).values(
            table_id=table_id, version=version, pinned_by=by, pinned_at=now
        )
    )
    return True


def remove_pins(connection: sa.Connection, name: str, version: int, by: str | None) -> int:
    query = sa.delete(table_pins).where(
        table_pins.c.table_id == _id(connection, name), table_pins.c.version == version
    )
    if by is not None:
        query = query.where(table_pins.c.pinned_by == by)
    return connection.execute(query).rowcount


def pins(connection: sa.Connection, name: str | None = None) -> list[Pin]:
    query = (
        sa.select(table_catalog.c.name, table_pins)
        .join(table_catalog, table_catalog.c.id == table_pins.c.table_id)
        .order_by(table_catalog.c.name, table_pins.c.version, table_pins.c.pinned_by)
    )
    if name is not None:
        query = query.where(table_catalog.c.name == name)
    return [
        Pin(table=row.name, version=row.version, pinned_by=row.pinned_by, pinned_at=row.pinned_at)
        for row in connection.execute(query)
    ]


# -- stats ------------------------------------------------------------------------------------
def get_stats(connection: sa.Connection, name: str, version: int) -> TableStats | None:
    query = (
        sa.select(table_stats.c.stats_json)
        .join(table_catalog, table_catalog.c.id == table_stats.c.table_id)
        .where(table_catalog.c.name == name, table_stats.c.version == version)
    )
    text = connection.execute(query).scalar_one_or_none()
    return None if text is None else TableStats.from_dict(json.loads(text))


def put_stats(connection: sa.Connection, stats: TableStats, now: datetime) -> None:
    """Store stats of one version; a version's stats never change, so a second write of the
    same version (by a concurrent writer, say) is skipped."""
    table_id = _id(connection, stats.table)
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(
        dialect.insert(table_stats)
        .on_conflict_do_nothing(index_elements=["table_id", "version"])
        .values(
            table_id=table_id,
            version=stats.version,
            row_count=stats.row_count,
            file_count=stats.file_count,
            size_bytes=stats.size_bytes,
            stats_json=json.dumps(stats.to_dict(), sort_keys=True),
            recorded_at=now,
        )
    )
