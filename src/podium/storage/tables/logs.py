"""Tables for logs sent by flow and task runs."""

import sqlalchemy as sa

from podium.storage.tables.base import metadata, object_columns
from podium.storage.types import Timestamp

logs = sa.Table(
    "logs",
    metadata,
    *object_columns(),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("level", sa.SmallInteger(), nullable=False, index=True),
    sa.Column("flow_run_id", sa.Uuid(), nullable=True, index=True),
    sa.Column("task_run_id", sa.Uuid(), nullable=True, index=True),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("timestamp", Timestamp(), nullable=False, index=True),
)
