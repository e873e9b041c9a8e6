"""tracking: experiments, run fields (tags, lifecycle), metric history, artifacts, logged models;
and the tags of a registered model itself (what MLflow's registry keeps beside versions' tags).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    experiments = op.create_table(
        "tracking_experiments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("artifact_location", sa.Text, nullable=False),
        sa.Column("lifecycle_stage", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tracking_experiments"),
        sa.UniqueConstraint("name", name="uq_tracking_experiments_name"),
    )
    op.create_table(
        "tracking_runs",
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("lifecycle_stage", sa.Text, nullable=False),
        sa.Column("artifact_uri", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_tracking_runs"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["lineage_runs.id"], name="fk_tracking_runs_run_id_lineage_runs"
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["tracking_experiments.id"],
            name="fk_tracking_runs_experiment_id_tracking_experiments",
        ),
    )
    op.create_index("ix_tracking_runs_experiment_id", "tracking_runs", ["experiment_id"])
    op.create_table(
        "tracking_metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tracking_metrics"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["lineage_runs.id"], name="fk_tracking_metrics_run_id_lineage_runs"
        ),
    )
    op.create_index("ix_tracking_metrics_run_id_key", "tracking_metrics", ["run_id", "key"])
    op.create_table(
        "tracking_artifacts",
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("path", name="pk_tracking_artifacts"),
    )
    op.create_table(
        "tracking_logged_models",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("source_run_id", sa.Text, nullable=True),
        sa.Column("model_type", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("artifact_uri", sa.Text, nullable=False),
        sa.Column("creator", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tracking_logged_models"),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["tracking_experiments.id"],
            name="fk_tracking_logged_models_experiment_id_tracking_experiments",
        ),
        sa.ForeignKeyConstraint(
            ["source_run_id"],
            ["lineage_runs.id"],
            name="fk_tracking_logged_models_source_run_id_lineage_runs",
        ),
    )
    op.create_index(
        "ix_tracking_logged_models_experiment_id", "tracking_logged_models", ["experiment_id"]
    )
    op.create_table(
        "model_level_tags",
        sa.Column("model_id", sa.Integer, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "key", name="pk_model_level_tags"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name="fk_model_level_tags_model_id_models"
        ),
    )
    now = datetime.now(UTC)
    default = {  # MLflow clients log into experiment 0 when they name none
        "id": 0,
        "name": "Default",
        "artifact_location": "mlflow-artifacts:/0",
        "lifecycle_stage": "active",
        "created_at": now,
        "updated_at": now,
        "tags": json.dumps({}),
    }
    op.bulk_insert(experiments, [default])


def downgrade() -> None:
    op.drop_table("model_level_tags")
    op.drop_index("ix_tracking_logged_models_experiment_id", table_name="tracking_logged_models")
    op.drop_table("tracking_logged_models")
    op.drop_table("tracking_artifacts")
    op.drop_index("ix_tracking_metrics_run_id_key", table_name="tracking_metrics")
    op.drop_table("tracking_metrics")
    op.drop_index("ix_tracking_runs_experiment_id", table_name="tracking_runs")
    op.drop_table("tracking_runs")
    op.drop_table("tracking_experiments")
