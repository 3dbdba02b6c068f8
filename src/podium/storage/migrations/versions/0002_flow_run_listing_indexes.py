"""index the flow-run sorts of run lists and worker polls

The UI lists runs by start time (the start, or the expected start before
the run starts) and upcoming runs by next scheduled start within a state
name, and a worker's poll takes a queue's SCHEDULED runs by next scheduled
start. Without these indexes each of them sorted every matching run.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 22:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_flow_runs__coalesce_start_time_expected_start_time",
        "flow_runs",
        [sa.text("coalesce(start_time, expected_start_time)")],
    )
    op.create_index(
        "ix_flow_runs__state_name_next_scheduled_start_time",
        "flow_runs",
        ["state_name", "next_scheduled_start_time"],
    )
    op.create_index(
        "ix_flow_runs__work_queue_id_state_type_next_scheduled",
        "flow_runs",
        ["work_queue_id", "state_type", "next_scheduled_start_time"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_flow_runs__work_queue_id_state_type_next_scheduled",
        table_name="flow_runs",
    )
    op.drop_index(
        "ix_flow_runs__state_name_next_scheduled_start_time", table_name="flow_runs"
    )
    op.drop_index(
        "ix_flow_runs__coalesce_start_time_expected_start_time", table_name="flow_runs"
    )
