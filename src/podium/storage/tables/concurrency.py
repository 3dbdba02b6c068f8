"""Tables for global concurrency limits and the leases that hold their slots.

Tag limits (the v1 API) are global limits named `tag:<tag>`. A limit's
`active_slots` counts every occupied slot. Slots taken with a lease are
released in the same transaction that deletes the lease, so the count stays
equal to the slots of the live leases.
"""

import sqlalchemy as sa

from podium.storage.tables.base import metadata, object_columns
from podium.storage.types import JSON, Timestamp

concurrency_limits = sa.Table(
    "concurrency_limits",
    metadata,
    *object_columns(),
    sa.Column("name", sa.String(), nullable=False, unique=True),
    sa.Column("limit", sa.Integer(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False, default=True),
    # Floats, because slots of rate limits decay continuously.
    sa.Column("active_slots", sa.Float(), nullable=False, default=0.0),
    # Time at which `active_slots` and `denied_slots` were last written;
    # decay is computed from it.
    sa.Column("slots_updated", Timestamp(), nullable=True),
    sa.Column("denied_slots", sa.Float(), nullable=False, default=0.0),
    sa.Column("slot_decay_per_second", sa.Float(), nullable=False, default=0.0),
    sa.Column("avg_slot_occupancy_seconds", sa.Float(), nullable=False, default=2.0),
)

concurrency_leases = sa.Table(
    "concurrency_leases",
    metadata,
    *object_columns(),
    sa.Column("expires_at", Timestamp(), nullable=False, index=True),
    sa.Column("slots", sa.Integer(), nullable=False),
    sa.Column("holder", JSON, nullable=True),
    sa.Column("holder_id", sa.Uuid(), nullable=True, index=True),
)

concurrency_lease_limits = sa.Table(
    "concurrency_lease_limits",
    metadata,
    sa.Column(
        "lease_id",
        sa.Uuid(),
        sa.ForeignKey("concurrency_leases.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "limit_id",
        sa.Uuid(),
        sa.ForeignKey("concurrency_limits.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)
