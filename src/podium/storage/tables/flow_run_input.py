"""Tables for the keyed inputs sent to paused or waiting flow runs."""

import sqlalchemy as sa

from podium.storage.tables.base import metadata, object_columns

flow_run_inputs = sa.Table(
    "flow_run_inputs",
    metadata,
    *object_columns(),
    sa.Column(
        "flow_run_id",
        sa.Uuid(),
        sa.ForeignKey("flow_runs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("key", sa.String(), nullable=False),
    # The value is JSON text as the client sent it; it is returned verbatim.
    sa.Column("value", sa.Text(), nullable=False),
    sa.Column("sender", sa.String(), nullable=True),
    sa.UniqueConstraint("flow_run_id", "key"),
)
