"""Tables for artifacts and the latest version of each artifact key."""

import sqlalchemy as sa

from podium.storage.tables.base import metadata, object_columns
from podium.storage.types import JSON

artifacts = sa.Table(
    "artifacts",
    metadata,
    *object_columns(),
    sa.Column("key", sa.String(), nullable=True, index=True),
    sa.Column("type", sa.String(), nullable=True, index=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("data", JSON, nullable=True),
    sa.Column("metadata_", JSON, nullable=True),
    sa.Column("flow_run_id", sa.Uuid(), nullable=True, index=True),
    sa.Column("task_run_id", sa.Uuid(), nullable=True, index=True),
)

# One row per key, pointing at the newest artifact of that key; it is kept in
# the same transaction as the artifact writes, so "latest" needs no grouping.
artifact_collections = sa.Table(
    "artifact_collections",
    metadata,
    *object_columns(),
    sa.Column("key", sa.String(), nullable=False, unique=True),
    sa.Column(
        "latest_id",
        sa.Uuid(),
        sa.ForeignKey("artifacts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)
