"""tables: the table catalog, pins and per-version stats.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "table_catalog",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_table_catalog"),
        sa.UniqueConstraint("name", name="uq_table_catalog_name"),
        sa.CheckConstraint("format IN ('delta', 'iceberg')", name="ck_table_catalog_format"),
        sa.CheckConstraint("origin IN ('created', 'registered')", name="ck_table_catalog_origin"),
    )
    op.create_table(
        "table_pins",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("table_id", sa.Integer, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("pinned_by", sa.Text, nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_table_pins"),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["table_catalog.id"],
            name="fk_table_pins_table_id_table_catalog",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "table_id", "version", "pinned_by", name="uq_table_pins_table_id_version_pinned_by"
        ),
    )
    op.create_table(
        "table_stats",
        sa.Column("table_id", sa.Integer, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("file_count", sa.Integer, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("stats_json", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("table_id", "version", name="pk_table_stats"),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["table_catalog.id"],
            name="fk_table_stats_table_id_table_catalog",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("table_stats")
    op.drop_table("table_pins")
    op.drop_table("table_catalog")
