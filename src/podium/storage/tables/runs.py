"""Tables for flow runs, task runs and their state histories.

A run row carries a copy of its current state's id, type, name and timestamp
so that filters and sorts on state need no join; the full state lives in the
history table and is joined only when a run is returned.
"""

import sqlalchemy as sa

from podium.storage.tables.base import metadata, object_columns
from podium.storage.types import JSON, Timestamp


def _current_state_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("state_id", sa.Uuid(), nullable=True),
        sa.Column("state_type", sa.String(), nullable=True, index=True),
        sa.Column("state_name", sa.String(), nullable=True, index=True),
        sa.Column("state_timestamp", Timestamp(), nullable=True),
    ]


def _timing_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("run_count", sa.Integer(), nullable=False, default=0),
        sa.Column("expected_start_time", Timestamp(), nullable=True, index=True),
        sa.Column("next_scheduled_start_time", Timestamp(), nullable=True, index=True),
        sa.Column("start_time", Timestamp(), nullable=True, index=True),
        sa.Column("end_time", Timestamp(), nullable=True, index=True),
        sa.Column("total_run_time", sa.Float(), nullable=False, default=0.0),
    ]


flow_runs = sa.Table(
    "flow_runs",
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
    sa.Column("flow_version", sa.String(), nullable=True),
    sa.Column("deployment_id", sa.Uuid(), nullable=True, index=True),
    sa.Column("deployment_version", sa.String(), nullable=True),
    sa.Column("work_queue_id", sa.Uuid(), nullable=True, index=True),
    sa.Column("work_queue_name", sa.String(), nullable=True, index=True),
    sa.Column("parameters", JSON, nullable=False, default=dict),
    sa.Column("idempotency_key", sa.String(), nullable=True),
    sa.Column("context", JSON, nullable=False, default=dict),
    sa.Column("empirical_policy", JSON, nullable=False, default=dict),
    sa.Column("tags", JSON, nullable=False, default=list),
    sa.Column("labels", JSON, nullable=True),
    sa.Column("parent_task_run_id", sa.Uuid(), nullable=True, index=True),
    sa.Column("auto_scheduled", sa.Boolean(), nullable=False, default=False),
    sa.Column("infrastructure_document_id", sa.Uuid(), nullable=True),
    sa.Column("infrastructure_pid", sa.String(), nullable=True),
    sa.Column("job_variables", JSON, nullable=True),
    sa.Column("created_by", JSON, nullable=True),
    *_current_state_columns(),
    *_timing_columns(),
    sa.UniqueConstraint("flow_id", "idempotency_key"),
)

# The sorts of the UI's run lists and of worker polls (migration 0002).
sa.Index(
    "ix_flow_runs__coalesce_start_time_expected_start_time",
    sa.func.coalesce(flow_runs.c.start_time, flow_runs.c.expected_start_time),
)
sa.Index(
    "ix_flow_runs__state_name_next_scheduled_start_time",
    flow_runs.c.state_name,
    flow_runs.c.next_scheduled_start_time,
)
sa.Index(
    "ix_flow_runs__work_queue_id_state_type_next_scheduled",
    flow_runs.c.work_queue_id,
    flow_runs.c.state_type,
    flow_runs.c.next_scheduled_start_time,
)

flow_run_states = sa.Table(
    "flow_run_states",
    metadata,
    *object_columns(),
    sa.Column(
        "flow_run_id",
        sa.Uuid(),
        sa.ForeignKey("flow_runs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("type", sa.String(), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("timestamp", Timestamp(), nullable=False),
    sa.Column("message", sa.Text(), nullable=True),
    sa.Column("state_details", JSON, nullable=False, default=dict),
    sa.Column("data", JSON, nullable=True),
    sa.Index(None, "flow_run_id", "timestamp"),
)

task_runs = sa.Table(
    "task_runs",
    metadata,
    *object_columns(),
    sa.Column("name", sa.String(), nullable=False, index=True),
    sa.Column(
        "flow_run_id",
        sa.Uuid(),
        sa.ForeignKey("flow_runs.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    sa.Column("task_key", sa.String(), nullable=False),
    sa.Column("dynamic_key", sa.String(), nullable=False),
    sa.Column("cache_key", sa.String(), nullable=True),
    sa.Column("cache_expiration", Timestamp(), nullable=True),
    sa.Column("task_version", sa.String(), nullable=True),
    sa.Column("empirical_policy", JSON, nullable=False, default=dict),
    sa.Column("task_inputs", JSON, nullable=False, default=dict),
    sa.Column("tags", JSON, nullable=False, default=list),
    sa.Column("labels", JSON, nullable=True),
    sa.Column("flow_run_run_count", sa.Integer(), nullable=False, default=0),
    *_current_state_columns(),
    *_timing_columns(),
    sa.UniqueConstraint("flow_run_id", "task_key", "dynamic_key"),
)

task_run_states = sa.Table(
    "task_run_states",
    metadata,
    *object_columns(),
    sa.Column(
        "task_run_id",
        sa.Uuid(),
        sa.ForeignKey("task_runs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("type", sa.String(), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("timestamp", Timestamp(), nullable=False),
    sa.Column("message", sa.Text(), nullable=True),
    sa.Column("state_details", JSON, nullable=False, default=dict),
    sa.Column("data", JSON, nullable=True),
    sa.Index(None, "task_run_id", "timestamp"),
)
