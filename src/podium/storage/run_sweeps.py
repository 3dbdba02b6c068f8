"""Queries behind the late-runs and cancellation-cleanup services.

Each write checks that the run is still in the state the service read, in
the same transaction, so a run that moved on meanwhile (a worker made it
PENDING, a runner reported CANCELLED) is left alone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.orchestration.context import TERMINAL_STATE_TYPES, StateSnapshot, StateType
from podium.schemas.states import StateCreate
from podium.storage.states import (
    FLOW_RUN_TABLES,
    TASK_RUN_TABLES,
    set_run_state,
    write_state,
)
from podium.storage.tables import flow_run_states, flow_runs, task_runs

TERMINAL_VALUES = [state_type.value for state_type in TERMINAL_STATE_TYPES]
PARENT_CANCELLED = "The parent flow run was cancelled."
CANCELLING_TIMED_OUT = (
    "The flow run stayed CANCELLING past the timeout and was marked Cancelled."
)


async def read_late_run_candidates(
    connection: AsyncConnection, scheduled_before: dt.datetime, limit: int
) -> list[Any]:
    """Select (id, state_id) of runs still `Scheduled` whose start time has passed.

    Only the state named `Scheduled` qualifies, so Late, AwaitingRetry and
    AwaitingConcurrencySlot runs are never marked Late.
    """
    query = (
        sa.select(flow_runs.c.id, flow_runs.c.state_id)
        .where(
            flow_runs.c.state_type == StateType.SCHEDULED.value,
            flow_runs.c.state_name == "Scheduled",
            flow_runs.c.next_scheduled_start_time <= scheduled_before,
        )
        .order_by(flow_runs.c.next_scheduled_start_time)
        .limit(limit)
    )
    return list((await connection.execute(query)).all())


async def _lock_current_state(connection: AsyncConnection, run_id: UUID) -> Any:
    # PostgreSQL locks the row until commit; SQLite's write transaction is
    # already exclusive, and SQLAlchemy renders no FOR UPDATE there.
    query = (
        sa.select(
            flow_runs.c.state_id,
            flow_runs.c.state_type,
            flow_runs.c.state_name,
            flow_runs.c.state_timestamp,
            flow_runs.c.next_scheduled_start_time,
        )
        .where(flow_runs.c.id == run_id)
        .with_for_update()
    )
    return (await connection.execute(query)).first()


async def mark_run_late(
    connection: AsyncConnection, run_id: UUID, expected_state_id: UUID, now: dt.datetime
) -> bool:
    """Replace a run's `Scheduled` state with `Late` if that state is still current.

    The Late state keeps the scheduled time. Returns whether it was written.
    """
    current = await _lock_current_state(connection, run_id)
    if (
        current is None
        or current.state_id != expected_state_id
        or current.state_type != StateType.SCHEDULED.value
        or current.state_name != "Scheduled"
    ):
        return False
    details_row = (
        await connection.execute(
            sa.select(flow_run_states.c.state_details).where(
                flow_run_states.c.id == expected_state_id
            )
        )
    ).first()
    details = dict(details_row.state_details or {}) if details_row else {}
    if current.next_scheduled_start_time is not None:
        details["scheduled_time"] = current.next_scheduled_start_time.isoformat()
    details["flow_run_id"] = str(run_id)
    late = StateSnapshot(
        id=uuid.uuid4(),
        type=StateType.SCHEDULED,
        name="Late",
        timestamp=now,
        state_details=details,
    )
    await write_state(connection, FLOW_RUN_TABLES, run_id, late)
    return True


async def read_cancelled_parents_with_open_tasks(
    connection: AsyncConnection, limit: int
) -> list[UUID]:
    """Select task runs that are not finished although their flow run is CANCELLED."""
    query = (
        sa.select(task_runs.c.id)
        .join(flow_runs, flow_runs.c.id == task_runs.c.flow_run_id)
        .where(
            flow_runs.c.state_type == StateType.CANCELLED.value,
            sa.or_(
                task_runs.c.state_type.is_(None),
                task_runs.c.state_type.not_in(TERMINAL_VALUES),
            ),
        )
        .limit(limit)
    )
    return list((await connection.execute(query)).scalars())


async def cancel_task_run(connection: AsyncConnection, task_run_id: UUID) -> bool:
    result, written = await set_run_state(
        connection,
        TASK_RUN_TABLES,
        task_run_id,
        StateCreate(type=StateType.CANCELLED, message=PARENT_CANCELLED),
        force=True,
    )
    return written


async def read_orphaned_subflow_runs(
    connection: AsyncConnection, limit: int
) -> list[Any]:
    """Select (id, state_id, deployment_id, state_type) of open subflow runs
    whose parent flow run is CANCELLED."""
    parent_task = task_runs.alias("parent_task")
    parent_run = flow_runs.alias("parent_run")
    query = (
        sa.select(
            flow_runs.c.id,
            flow_runs.c.state_id,
            flow_runs.c.deployment_id,
            flow_runs.c.state_type,
        )
        .join(parent_task, parent_task.c.id == flow_runs.c.parent_task_run_id)
        .join(parent_run, parent_run.c.id == parent_task.c.flow_run_id)
        .where(
            parent_run.c.state_type == StateType.CANCELLED.value,
            flow_runs.c.state_type.not_in(TERMINAL_VALUES),
            # A deployed subflow already CANCELLING waits for its runner.
            sa.not_(
                sa.and_(
                    flow_runs.c.deployment_id.is_not(None),
                    flow_runs.c.state_type == StateType.CANCELLING.value,
                )
            ),
        )
        .limit(limit)
    )
    return list((await connection.execute(query)).all())


async def cancel_flow_run_if_current(
    connection: AsyncConnection,
    run_id: UUID,
    expected_state_id: UUID | None,
    state_type: StateType,
    message: str,
) -> bool:
    """Propose CANCELLING or CANCELLED for a run still in the state that was read."""
    current = await _lock_current_state(connection, run_id)
    if current is None or current.state_id != expected_state_id:
        return False
    _, written = await set_run_state(
        connection,
        FLOW_RUN_TABLES,
        run_id,
        StateCreate(type=state_type, message=message),
    )
    return written


async def read_stuck_cancelling_runs(
    connection: AsyncConnection, entered_before: dt.datetime, limit: int
) -> list[Any]:
    """Select (id, state_id) of runs CANCELLING since before `entered_before`."""
    query = (
        sa.select(flow_runs.c.id, flow_runs.c.state_id)
        .where(
            flow_runs.c.state_type == StateType.CANCELLING.value,
            flow_runs.c.state_timestamp <= entered_before,
        )
        .order_by(flow_runs.c.state_timestamp)
        .limit(limit)
    )
    return list((await connection.execute(query)).all())
