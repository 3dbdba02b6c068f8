"""Tables for deployments and their schedules.

`deployment_schedules.scheduled_until` is the last occurrence the scheduler
has created a run for, and `next_fill_at` is when the scheduler must look
at the schedule again (NULL: at once). Any change that invalidates a
schedule's runs resets both, so the scheduler's loop only reads schedules
that are due.
"""

import sqlalchemy as sa

from podium.storage.tables.base import metadata, object_columns
from podium.storage.types import JSON, Timestamp

deployments = sa.Table(
    "deployments",
    metadata,
    *object_columns(),
    sa.Column("name", sa.String(), nullable=False, index=True),
    sa.Column(
        "flow_id",
        sa.Uuid(),
        sa.ForeignKey("flows.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("version", sa.String(), nullable=True),
    sa.Column("version_info", JSON, nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("paused", sa.Boolean(), nullable=False, default=False, index=True),
    sa.Column("tags", JSON, nullable=False, default=list),
    sa.Column("labels", JSON, nullable=True),
    sa.Column("parameters", JSON, nullable=False, default=dict),
    # A deployment created without a schema accepts any parameters.
    sa.Column(
        "parameter_openapi_schema",
        JSON,
        nullable=True,
        default=lambda: {"type": "object", "properties": {}},
    ),
    sa.Column("enforce_parameter_schema", sa.Boolean(), nullable=False, default=True),
    sa.Column("job_variables", JSON, nullable=False, default=dict),
    sa.Column("pull_steps", JSON, nullable=True),
    sa.Column("entrypoint", sa.String(), nullable=True),
    sa.Column("path", sa.String(), nullable=True),
    sa.Column("storage_document_id", sa.Uuid(), nullable=True),
    sa.Column("infrastructure_document_id", sa.Uuid(), nullable=True),
    sa.Column("work_queue_name", sa.String(), nullable=True, index=True),
    sa.Column("work_queue_id", sa.Uuid(), nullable=True, index=True),
    sa.Column("concurrency_limit", sa.Integer(), nullable=True),
    sa.Column("concurrency_options", JSON, nullable=True),
    sa.Column("global_concurrency_limit_id", sa.Uuid(), nullable=True),
    sa.Column("last_polled", Timestamp(), nullable=True),
    sa.Column("status", sa.String(), nullable=False, default="NOT_READY"),
    sa.Column("created_by", JSON, nullable=True),
    sa.Column("updated_by", JSON, nullable=True),
    sa.UniqueConstraint("flow_id", "name"),
)

deployment_schedules = sa.Table(
    "deployment_schedules",
    metadata,
    *object_columns(),
    sa.Column(
        "deployment_id",
        sa.Uuid(),
        sa.ForeignKey("deployments.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("schedule", JSON, nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False, default=True),
    sa.Column("max_scheduled_runs", sa.Integer(), nullable=True),
    sa.Column("parameters", JSON, nullable=False, default=dict),
    sa.Column("slug", sa.String(), nullable=True),
    sa.Column("scheduled_until", Timestamp(), nullable=True),
    sa.Column("next_fill_at", Timestamp(), nullable=True, index=True),
    sa.UniqueConstraint("deployment_id", "slug"),
)
