"""Tables for events and the resources each event involves.

`events` keeps one row per event id. `event_resources` unpacks the primary
resource (with an empty role) and every related resource of an event into
rows, so filters on resource ids, roles and labels use an index instead of
scanning JSON. Both tables carry `occurred` so that every lookup can be
limited to a time window first.
"""

import sqlalchemy as sa

from podium.storage.tables.base import metadata
from podium.storage.types import JSON, Timestamp

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("occurred", Timestamp(), nullable=False, index=True),
    sa.Column("event", sa.String(), nullable=False),
    sa.Column("resource_id", sa.String(), nullable=False),
    sa.Column("resource", JSON, nullable=False),
    sa.Column("related", JSON, nullable=False, default=list),
    sa.Column("payload", JSON, nullable=False, default=dict),
    sa.Column("received", Timestamp(), nullable=False, index=True),
    sa.Column("follows", sa.Uuid(), nullable=True),
    sa.Index(None, "event", "occurred"),
    sa.Index(None, "resource_id", "occurred"),
)

event_resources = sa.Table(
    "event_resources",
    metadata,
    sa.Column(
        "event_id",
        sa.Uuid(),
        sa.ForeignKey("events.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # The primary resource has the role "" so it can share the key.
    sa.Column("resource_role", sa.String(), primary_key=True),
    sa.Column("resource_id", sa.String(), primary_key=True),
    sa.Column("occurred", Timestamp(), nullable=False),
    sa.Column("resource", JSON, nullable=False),
    sa.Index(None, "resource_id", "occurred"),
    sa.Index(None, "occurred"),
)
