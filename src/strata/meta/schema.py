"""Table definitions of the metadata database (SQLAlchemy Core, one ``MetaData``).

This is the current shape of the schema, used to build queries; the migrations in
``migrations/versions/`` are what create it. To add tables (or change one):

1. define them here on ``metadata``;
2. copy ``migrations/versions/0001_file_versions.py`` to ``000N_<what>.py`` with
   ``revision = "000N"`` and ``down_revision`` the previous one, creating exactly that;
3. set ``SCHEMA_HEAD = "000N"`` in ``head.py``.

Tests check that the head matches and that the migrated database equals this metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

# Stable constraint names, so later migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware timestamp, stored and returned in UTC on every backend.

    SQLite keeps no offset, so values are converted to UTC before they are written and get
    ``tzinfo=UTC`` back when read; PostgreSQL's ``timestamptz`` is normalised to UTC too.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


file_versions = sa.Table(
    "file_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("files", sa.Integer, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("path", "hash"),
    sa.CheckConstraint("kind IN ('file', 'directory')", name="kind"),
)

# -- lineage: runs, the graph of refs they read and wrote, feature sets, deployments ---------

lineage_runs = sa.Table(
    "lineage_runs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("job", sa.Text, nullable=False),
    sa.Column("namespace", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("exit_code", sa.Integer, nullable=True),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Column("command", sa.Text, nullable=True),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("metrics", sa.Text, nullable=False),
    sa.Column("environment", sa.Text, nullable=False),
    sa.Column("git_commit", sa.Text, nullable=True),
    sa.Column("git_dirty", sa.Boolean, nullable=True),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.CheckConstraint("status IN ('running', 'completed', 'failed')", name="status"),
    sa.Index("ix_lineage_runs_job_started_at", "job", "started_at"),
)

lineage_nodes = sa.Table(
    "lineage_nodes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ref", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("ref"),
    sa.Index("ix_lineage_nodes_kind_name_version", "kind", "name", "version"),
)

lineage_edges = sa.Table(
    "lineage_edges",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("src_id", sa.Integer, sa.ForeignKey("lineage_nodes.id"), nullable=False),
    sa.Column("dst_id", sa.Integer, sa.ForeignKey("lineage_nodes.id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("run_id", sa.Text, nullable=True),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("src_id", "dst_id", "kind"),
    sa.Index("ix_lineage_edges_dst_id", "dst_id"),
)

lineage_feature_sets = sa.Table(
    "lineage_feature_sets",
    metadata,
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content_hash", sa.Text, nullable=False),
    sa.Column("features", sa.Text, nullable=False),
    sa.Column("definition", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("name", "version"),
    sa.UniqueConstraint("name", "content_hash"),
)

lineage_deployments = sa.Table(
    "lineage_deployments",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("image", sa.Text, nullable=True),
    sa.Column("deployed_at", UTCDateTime, nullable=False),
    sa.Column("run_id", sa.Text, nullable=True),
    sa.Index("ix_lineage_deployments_model", "model"),
)

# -- models: the model registry, its versions, tags, metrics, aliases and audit trail ---------

models = sa.Table(
    "models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("name"),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id"), nullable=False),
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
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.UniqueConstraint("model_id", "number"),
    sa.CheckConstraint("stage IN ('none', 'staging', 'production', 'archived')", name="stage"),
    sa.CheckConstraint("artifact_kind IN ('file', 'directory')", name="artifact_kind"),
    sa.Index("ix_model_versions_model_id_stage_stage_event", "model_id", "stage", "stage_event"),
    sa.Index("ix_model_versions_artifact_hash", "artifact_hash"),
    sa.Index("ix_model_versions_model_id_major_minor_patch", "model_id", "major", "minor", "patch"),
)

model_tags = sa.Table(
    "model_tags",
    metadata,
    sa.Column("version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("version_id", "key"),
    sa.Index("ix_model_tags_key_value", "key", "value"),
)

model_metrics = sa.Table(
    "model_metrics",
    metadata,
    sa.Column("version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.PrimaryKeyConstraint("version_id", "key"),
)

model_aliases = sa.Table(
    "model_aliases",
    metadata,
    sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id"), nullable=False),
    sa.Column("alias", sa.Text, nullable=False),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("protected", sa.Boolean, nullable=False),
    sa.PrimaryKeyConstraint("model_id", "alias"),
)

model_events = sa.Table(
    "model_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id"), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=True),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=True),
    sa.Column("from_value", sa.Text, nullable=True),
    sa.Column("to_value", sa.Text, nullable=True),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("forced", sa.Boolean, nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.CheckConstraint(
        "action IN ('registered', 'stage', 'alias', 'tag', 'description')", name="action"
    ),
    sa.Index("ix_model_events_model_id_id", "model_id", "id"),
)


# -- tables: the table catalog, pinned versions and per-version stats -------------------------

table_catalog = sa.Table(
    "table_catalog",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("format", sa.Text, nullable=False),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("name"),
    sa.CheckConstraint("format IN ('delta', 'iceberg')", name="format"),
    sa.CheckConstraint("origin IN ('created', 'registered')", name="origin"),
)

table_pins = sa.Table(
    "table_pins",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "table_id",
        sa.Integer,
        sa.ForeignKey("table_catalog.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("pinned_by", sa.Text, nullable=False),
    sa.Column("pinned_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("table_id", "version", "pinned_by"),
)

table_stats = sa.Table(
    "table_stats",
    metadata,
    sa.Column(
        "table_id",
        sa.Integer,
        sa.ForeignKey("table_catalog.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("file_count", sa.Integer, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("stats_json", sa.Text, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("table_id", "version"),
)


# -- guard: checks and what they did; releases ----------------------------------------------
guard_events = sa.Table(
    "guard_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("checked_at", UTCDateTime, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("fired_json", sa.Text, nullable=False),
    sa.Column("metrics_json", sa.Text, nullable=False),
    sa.Column("from_ref", sa.Text, nullable=True),
    sa.Column("to_ref", sa.Text, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Index(None, "model", "checked_at"),
)

releases = sa.Table(
    "releases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("content_json", sa.Text, nullable=False),
    sa.UniqueConstraint("name"),
)


# -- users, their tokens (as hashes) and per-thing grants ----------------------------------------
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.UniqueConstraint("name"),
)

user_tokens = sa.Table(
    "user_tokens",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # public: names the token, not a secret
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("secret_hash", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    sa.Index(None, "user_id"),
)

user_grants = sa.Table(
    "user_grants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("target", sa.Text, nullable=False),  # KIND:NAME, e.g. model:delay-classifier
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("granted_at", UTCDateTime, nullable=False),
    sa.Column("granted_by", sa.Text, nullable=False),
    sa.UniqueConstraint("user_id", "target"),
)


# -- experiments and what MLflow's tracking API keeps of a run beyond Strata's run record --------
tracking_experiments = sa.Table(
    "tracking_experiments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # 0: "Default"
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("artifact_location", sa.Text, nullable=False),
    sa.Column("lifecycle_stage", sa.Text, nullable=False),  # active or deleted
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("tags", sa.Text, nullable=False),  # JSON object
    sa.UniqueConstraint("name"),
)

tracking_runs = sa.Table(
    "tracking_runs",
    metadata,
    sa.Column("run_id", sa.Text, sa.ForeignKey("lineage_runs.id"), primary_key=True),
    sa.Column(
        "experiment_id", sa.Integer, sa.ForeignKey("tracking_experiments.id"), nullable=False
    ),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("lifecycle_stage", sa.Text, nullable=False),
    sa.Column("artifact_uri", sa.Text, nullable=False),
    sa.Column("tags", sa.Text, nullable=False),  # JSON object
    sa.Index(None, "experiment_id"),
)

tracking_metrics = sa.Table(
    "tracking_metrics",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Text, sa.ForeignKey("lineage_runs.id"), nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("timestamp_ms", sa.BigInteger, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Index(None, "run_id", "key"),
)

tracking_artifacts = sa.Table(
    "tracking_artifacts",
    metadata,
    sa.Column("path", sa.Text, primary_key=True),  # EXPERIMENT/RUN/artifacts/..., relative
    sa.Column("hash", sa.Text, nullable=False),  # the object in the content-addressed store
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("stored_at", UTCDateTime, nullable=False),
)

tracking_logged_models = sa.Table(
    "tracking_logged_models",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # m-<32 hex>, as MLflow names them
    sa.Column(
        "experiment_id", sa.Integer, sa.ForeignKey("tracking_experiments.id"), nullable=False
    ),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("source_run_id", sa.Text, sa.ForeignKey("lineage_runs.id"), nullable=True),
    sa.Column("model_type", sa.Text, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("artifact_uri", sa.Text, nullable=False),
    sa.Column("creator", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("tags", sa.Text, nullable=False),  # JSON object
    sa.Column("params", sa.Text, nullable=False),  # JSON object
    sa.Index(None, "experiment_id"),
)

model_level_tags = sa.Table(  # tags of a registered model itself (a version's are model_tags)
    "model_level_tags",
    metadata,
    sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id"), nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("model_id", "key"),
)
