"""Tables for automations and the state their triggers keep between events.

`automation_buckets` holds one open counting window per event trigger and
`for_each` key. `bucketing_key` is the key's values as a JSON text, so it
can take part in the unique constraint on both backends.
`composite_trigger_child_firings` holds the latest firing of each child of a
compound or sequence trigger until the parent fires.
"""

import sqlalchemy as sa

from podium.storage.tables.base import metadata, object_columns
from podium.storage.types import JSON, Timestamp

automations = sa.Table(
    "automations",
    metadata,
    *object_columns(),
    sa.Column("name", sa.String(), nullable=False, index=True),
    sa.Column("description", sa.Text(), nullable=False, default=""),
    sa.Column("enabled", sa.Boolean(), nullable=False, default=True, index=True),
    sa.Column("tags", JSON, nullable=False, default=list),
    sa.Column("trigger", JSON, nullable=False),
    sa.Column("actions", JSON, nullable=False, default=list),
    sa.Column("actions_on_trigger", JSON, nullable=False, default=list),
    sa.Column("actions_on_resolve", JSON, nullable=False, default=list),
)

automation_related_resources = sa.Table(
    "automation_related_resources",
    metadata,
    *object_columns(),
    sa.Column(
        "automation_id",
        sa.Uuid(),
        sa.ForeignKey("automations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("resource_id", sa.String(), nullable=False, index=True),
    sa.Column("owned_by_resource", sa.Boolean(), nullable=False, default=False),
    sa.UniqueConstraint("automation_id", "resource_id"),
)

automation_buckets = sa.Table(
    "automation_buckets",
    metadata,
    *object_columns(),
    sa.Column(
        "automation_id",
        sa.Uuid(),
        sa.ForeignKey("automations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("trigger_id", sa.Uuid(), nullable=False),
    sa.Column("bucketing_key", sa.String(), nullable=False),
    sa.Column("start", Timestamp(), nullable=False),
    sa.Column("end", Timestamp(), nullable=False, index=True),
    sa.Column("count", sa.Integer(), nullable=False),
    sa.Column("last_event", JSON, nullable=True),
    sa.UniqueConstraint("automation_id", "trigger_id", "bucketing_key"),
)

composite_trigger_child_firings = sa.Table(
    "composite_trigger_child_firings",
    metadata,
    *object_columns(),
    sa.Column(
        "automation_id",
        sa.Uuid(),
        sa.ForeignKey("automations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("parent_trigger_id", sa.Uuid(), nullable=False),
    sa.Column("child_trigger_id", sa.Uuid(), nullable=False),
    sa.Column("child_firing_id", sa.Uuid(), nullable=False),
    sa.Column("child_fired_at", Timestamp(), nullable=False),
    sa.Column("child_firing", JSON, nullable=False),
    sa.UniqueConstraint("automation_id", "parent_trigger_id", "child_trigger_id"),
)
