"""guard: what each guard check found and did, and releases.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "guard_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("fired_json", sa.Text, nullable=False),
        sa.Column("metrics_json", sa.Text, nullable=False),
        sa.Column("from_ref", sa.Text, nullable=True),
        sa.Column("to_ref", sa.Text, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_guard_events"),
    )
    op.create_index("ix_guard_events_model_checked_at", "guard_events", ["model", "checked_at"])
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("content_json", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_releases"),
        sa.UniqueConstraint("name", name="uq_releases_name"),
    )


def downgrade() -> None:
    op.drop_table("releases")
    op.drop_index("ix_guard_events_model_checked_at", table_name="guard_events")
    op.drop_table("guard_events")
