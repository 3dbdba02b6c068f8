"""Tables for work pools, their work queues and the workers that poll them.

A pool's `default_queue_id` has no foreign key, because the pool and its
default queue refer to each other. Instead, `podium.storage.work_queues`
rejects deleting a default queue.
"""

import sqlalchemy as sa

from podium.storage.tables.base import metadata, object_columns
from podium.storage.types import JSON, Timestamp

work_pools = sa.Table(
    "work_pools",
    metadata,
    *object_columns(),
    sa.Column("name", sa.String(), nullable=False, unique=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("type", sa.String(), nullable=False, index=True),
    sa.Column("base_job_template", JSON, nullable=False, default=dict),
    sa.Column("is_paused", sa.Boolean(), nullable=False, default=False),
    sa.Column("concurrency_limit", sa.Integer(), nullable=True),
    sa.Column("status", sa.String(), nullable=True),
    sa.Column("default_queue_id", sa.Uuid(), nullable=True),
    sa.Column("storage_configuration", JSON, nullable=False, default=dict),
    sa.Column("last_transitioned_status_at", Timestamp(), nullable=True),
)

work_queues = sa.Table(
    "work_queues",
    metadata,
    *object_columns(),
    sa.Column(
        "work_pool_id",
        sa.Uuid(),
        sa.ForeignKey("work_pools.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("name", sa.String(), nullable=False, index=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("is_paused", sa.Boolean(), nullable=False, default=False),
    sa.Column("concurrency_limit", sa.Integer(), nullable=True),
    sa.Column("priority", sa.Integer(), nullable=False),
    sa.Column("last_polled", Timestamp(), nullable=True),
    sa.Column("status", sa.String(), nullable=False, default="NOT_READY"),
    # The deprecated tag/deployment filter of Prefect 2 queues, kept as sent.
    sa.Column("filter", JSON, nullable=True),
    sa.UniqueConstraint("work_pool_id", "name"),
)

workers = sa.Table(
    "workers",
    metadata,
    *object_columns(),
    sa.Column(
        "work_pool_id",
        sa.Uuid(),
        sa.ForeignKey("work_pools.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("last_heartbeat_time", Timestamp(), nullable=True, index=True),
    sa.Column("heartbeat_interval_seconds", sa.Integer(), nullable=True),
    sa.Column("status", sa.String(), nullable=False, default="OFFLINE", index=True),
    sa.UniqueConstraint("work_pool_id", "name"),
)
