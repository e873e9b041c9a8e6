"""models: the model registry and its audit trail.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_models"),
        sa.UniqueConstraint("name", name="uq_models_name"),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.Integer, nullable=False),
        sa.Column("number", sa.BigInteger, nullable=False),
        sa.Column("major", sa.BigInteger, nullable=False),
        sa.Column("minor", sa.BigInteger, nullable=False),
        sa.Column("patch", sa.BigInteger, nullable=False),
        sa.Column("prerelease", sa.Text, nullable=True),
        sa.Column("semver_reason", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("stage_event", sa.BigInteger, nullable=True),
        sa.Column("artifact_hash", sa.Text, nullable=False),
        sa.Column("artifact_kind", sa.Text, nullable=False),
        sa.Column("artifact_name", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("files", sa.Integer, nullable=False),
        sa.Column("flavor", sa.Text, nullable=False),
        sa.Column("signature", sa.Text, nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("data_refs", sa.Text, nullable=False),
        sa.Column("features_ref", sa.Text, nullable=True),
        sa.Column("run_ref", sa.Text, nullable=True),
        sa.Column("git_commit", sa.Text, nullable=True),
        sa.Column("git_dirty", sa.Boolean, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_versions"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name="fk_model_versions_model_id_models"
        ),
        sa.UniqueConstraint("model_id", "number", name="uq_model_versions_model_id_number"),
        sa.CheckConstraint(
            "stage IN ('none', 'staging', 'production', 'archived')",
            name="ck_model_versions_stage",
        ),
        sa.CheckConstraint(
            "artifact_kind IN ('file', 'directory')", name="ck_model_versions_artifact_kind"
        ),
    )
    op.create_index(
        "ix_model_versions_model_id_stage_stage_event",
        "model_versions",
        ["model_id", "stage", "stage_event"],
    )
    op.create_index("ix_model_versions_artifact_hash", "model_versions", ["artifact_hash"])
    op.create_index(
        "ix_model_versions_model_id_major_minor_patch",
        "model_versions",
        ["model_id", "major", "minor", "patch"],
    )
    for name, value_type in (("model_tags", sa.Text), ("model_metrics", sa.Float)):
        op.create_table(
            name,
            sa.Column("version_id", sa.Integer, nullable=False),
            sa.Column("key", sa.Text, nullable=False),
            sa.Column("value", value_type, nullable=False),
            sa.PrimaryKeyConstraint("version_id", "key", name=f"pk_{name}"),
            sa.ForeignKeyConstraint(
                ["version_id"], ["model_versions.id"], name=f"fk_{name}_version_id_model_versions"
            ),
        )
    op.create_index("ix_model_tags_key_value", "model_tags", ["key", "value"])
    op.create_table(
        "model_aliases",
        sa.Column("model_id", sa.Integer, nullable=False),
        sa.Column("alias", sa.Text, nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("protected", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "alias", name="pk_model_aliases"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name="fk_model_aliases_model_id_models"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["model_versions.id"], name="fk_model_aliases_version_id_model_versions"
        ),
    )
    op.create_table(
        "model_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.Integer, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=True),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=True),
        sa.Column("from_value", sa.Text, nullable=True),
        sa.Column("to_value", sa.Text, nullable=True),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("forced", sa.Boolean, nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_events"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name="fk_model_events_model_id_models"
        ),
        sa.CheckConstraint(
            "action IN ('registered', 'stage', 'alias', 'tag', 'description')",
            name="ck_model_events_action",
        ),
    )
    op.create_index("ix_model_events_model_id_id", "model_events", ["model_id", "id"])


def downgrade() -> None:
    for name in (
        "model_events",
        "model_aliases",
        "model_metrics",
        "model_tags",
        "model_versions",
        "models",
    ):
        op.drop_table(name)
