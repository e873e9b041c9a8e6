"""lineage: runs, their inputs and outputs, feature sets and deployments.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "lineage_runs",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("job", sa.Text, nullable=False),
        sa.Column("namespace", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("exit_code", sa.Integer, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("command", sa.Text, nullable=True),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("environment", sa.Text, nullable=False),
        sa.Column("git_commit", sa.Text, nullable=True),
        sa.Column("git_dirty", sa.Boolean, nullable=True),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_lineage_runs"),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'failed')", name="ck_lineage_runs_status"
        ),
    )
    op.create_index("ix_lineage_runs_job_started_at", "lineage_runs", ["job", "started_at"])
    op.create_table(
        "lineage_nodes",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("ref", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_lineage_nodes"),
        sa.UniqueConstraint("ref", name="uq_lineage_nodes_ref"),
    )
    op.create_index(
        "ix_lineage_nodes_kind_name_version", "lineage_nodes", ["kind", "name", "version"]
    )
    op.create_table(
        "lineage_edges",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("src_id", sa.Integer, nullable=False),
        sa.Column("dst_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lineage_edges"),
        sa.ForeignKeyConstraint(
            ["src_id"], ["lineage_nodes.id"], name="fk_lineage_edges_src_id_lineage_nodes"
        ),
        sa.ForeignKeyConstraint(
            ["dst_id"], ["lineage_nodes.id"], name="fk_lineage_edges_dst_id_lineage_nodes"
        ),
        sa.UniqueConstraint("src_id", "dst_id", "kind", name="uq_lineage_edges_src_id_dst_id_kind"),
    )
    op.create_index("ix_lineage_edges_dst_id", "lineage_edges", ["dst_id"])
    op.create_table(
        "lineage_feature_sets",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("definition", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_lineage_feature_sets"),
        sa.UniqueConstraint(
            "name", "content_hash", name="uq_lineage_feature_sets_name_content_hash"
        ),
    )
    op.create_table(
        "lineage_deployments",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("image", sa.Text, nullable=True),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_lineage_deployments"),
    )
    op.create_index("ix_lineage_deployments_model", "lineage_deployments", ["model"])


def downgrade() -> None:
    op.drop_table("lineage_deployments")
    op.drop_table("lineage_feature_sets")
    op.drop_index("ix_lineage_edges_dst_id", table_name="lineage_edges")
    op.drop_table("lineage_edges")
    op.drop_index("ix_lineage_nodes_kind_name_version", table_name="lineage_nodes")
    op.drop_table("lineage_nodes")
    op.drop_index("ix_lineage_runs_job_started_at", table_name="lineage_runs")
    op.drop_table("lineage_runs")
