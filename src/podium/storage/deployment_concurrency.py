"""Deployment concurrency limits: slot accounting and the set_state hook.

A deployment's slots are held by its flow runs in PENDING, RUNNING or
CANCELLING, so the count is read from the runs themselves. Leaving those
states (to any terminal state, a crash, or back to SCHEDULED) frees the slot
in the same transaction that writes the new state, and no counter can drift.

`check_deployment_concurrency` must be called by the flow-run set_state
storage code, inside its write transaction and before the new state is
written. On PostgreSQL it locks the deployment row, so two runs of one
deployment never take its last slot at the same time; SQLite transactions
are serialised by `Database.transaction()`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.orchestration.context import (
    SetStateStatus,
    StateSnapshot,
    StateType,
    TransitionResult,
)
from podium.storage.tables import flow_runs
from podium.storage.tables.deployments import deployments

SLOT_STATES = (StateType.PENDING, StateType.RUNNING, StateType.CANCELLING)
SLOT_STATE_VALUES = [s.value for s in SLOT_STATES]

# How long an ENQUEUE'd run waits before a worker may pick it up again, as
# Prefect's default `concurrency_slot_wait_seconds`.
DEFAULT_SLOT_WAIT_SECONDS = 30.0

LIMIT_REACHED = "Deployment concurrency limit reached."


def _active_runs(
    deployment_id: Any, excluding: UUID | None = None
) -> sa.ScalarSelect[int]:
    query = sa.select(sa.func.count()).where(
        flow_runs.c.deployment_id == deployment_id,
        flow_runs.c.state_type.in_(SLOT_STATE_VALUES),
    )
    if excluding is not None:
        query = query.where(flow_runs.c.id != excluding)
    return query.scalar_subquery()


def open_slots_query() -> sa.Select[Any]:
    """Select (deployment_id, slots) for every deployment with a limit."""
    return sa.select(
        deployments.c.id.label("deployment_id"),
        (deployments.c.concurrency_limit - _active_runs(deployments.c.id)).label(
            "slots"
        ),
    ).where(deployments.c.concurrency_limit.is_not(None))


async def deployment_open_slots(
    connection: AsyncConnection, work_queue_ids: list[UUID]
) -> tuple[dict[UUID, int], sa.Subquery | None]:
    """Return the open slots of limited deployments with runs in the queues.

    The dict maps deployment ids to open slots (never below 0); the subquery
    computes the same per deployment in SQL for ranking candidate runs. Both
    are empty when no such deployment has SCHEDULED runs in the queues.
    """
    waiting = sa.select(flow_runs.c.deployment_id).where(
        flow_runs.c.work_queue_id.in_(work_queue_ids),
        flow_runs.c.state_type == StateType.SCHEDULED.value,
        flow_runs.c.deployment_id.is_not(None),
    )
    query = open_slots_query().where(deployments.c.id.in_(waiting))
    slots = {
        row.deployment_id: max(0, int(row.slots))
        for row in await connection.execute(query)
    }
    if not slots:
        return {}, None
    return slots, open_slots_query().subquery("open_slots")


async def mark_deployments_polled(
    connection: AsyncConnection, work_queue_ids: list[UUID], now: dt.datetime
) -> None:
    """Mark the deployments served by the polled queues READY, as a poll shows."""
    if not work_queue_ids:
        return
    await connection.execute(
        sa.update(deployments)
        .where(deployments.c.work_queue_id.in_(work_queue_ids))
        .values(last_polled=now, status="READY")
    )


def _awaiting_slot_state(
    run_id: UUID, scheduled_time: dt.datetime, now: dt.datetime
) -> StateSnapshot:
    return StateSnapshot(
        id=uuid.uuid4(),
        type=StateType.SCHEDULED,
        name="AwaitingConcurrencySlot",
        timestamp=now,
        state_details={
            "flow_run_id": str(run_id),
            "scheduled_time": scheduled_time.isoformat(),
        },
    )


def _cancelled_state(run_id: UUID, now: dt.datetime) -> StateSnapshot:
    return StateSnapshot(
        id=uuid.uuid4(),
        type=StateType.CANCELLED,
        name="Cancelled",
        timestamp=now,
        message=LIMIT_REACHED,
        state_details={"flow_run_id": str(run_id)},
    )


async def check_deployment_concurrency(
    connection: AsyncConnection,
    run_id: UUID,
    deployment_id: UUID | None,
    initial_state_type: StateType | None,
    proposed_state: StateSnapshot,
    now: dt.datetime,
    slot_wait_seconds: float = DEFAULT_SLOT_WAIT_SECONDS,
) -> TransitionResult | None:
    """Decide whether a run may take a slot of its deployment's concurrency limit.

    Returns None when the transition may go on (no limit, a free slot, or a
    run that already holds a slot). Otherwise returns the result to apply
    instead of orchestrating: a REJECT that writes `AwaitingConcurrencySlot`
    (SCHEDULED, due after `slot_wait_seconds`) for the ENQUEUE strategy, a
    REJECT that writes CANCELLED for CANCEL_NEW, or an ABORT for a limit of 0.
    """
    if deployment_id is None:
        return None
    if proposed_state.type not in (StateType.PENDING, StateType.RUNNING):
        return None
    if initial_state_type in SLOT_STATES:
        return None

    row = (
        await connection.execute(
            sa.select(
                deployments.c.concurrency_limit, deployments.c.concurrency_options
            )
            .where(deployments.c.id == deployment_id)
            .with_for_update()
        )
    ).first()
    if row is None or row.concurrency_limit is None:
        return None
    if row.concurrency_limit == 0:
        return TransitionResult(
            status=SetStateStatus.ABORT,
            state=None,
            write_state=False,
            reason="The deployment concurrency limit is 0, so no run of it can start.",
        )

    active = (
        await connection.execute(sa.select(_active_runs(deployment_id, run_id)))
    ).scalar_one()
    if active < row.concurrency_limit:
        return None

    strategy = (row.concurrency_options or {}).get("collision_strategy") or "ENQUEUE"
    if strategy == "CANCEL_NEW":
        return TransitionResult(
            status=SetStateStatus.REJECT,
            state=_cancelled_state(run_id, now),
            write_state=True,
            reason=LIMIT_REACHED,
        )
    scheduled_time = now + dt.timedelta(seconds=slot_wait_seconds)
    return TransitionResult(
        status=SetStateStatus.REJECT,
        state=_awaiting_slot_state(run_id, scheduled_time, now),
        write_state=True,
        reason=LIMIT_REACHED,
        run_updates={"next_scheduled_start_time": scheduled_time},
    )
