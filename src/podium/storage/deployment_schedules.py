"""Queries for deployment schedules and the runs the scheduler creates.

Ordering rule for concurrent writers: every change that invalidates a
deployment's scheduled runs first writes the deployment row, then locks its
schedule rows (`lock_schedules`), then deletes runs. The scheduler locks the
schedule rows it fills with SKIP LOCKED, so on PostgreSQL it never inserts
runs for a schedule that a concurrent change is about to invalidate, and two
schedulers never fill the same schedule at once. SQLite serialises writers,
so both orders are trivially safe there. The unique index on
`(flow_id, idempotency_key)` is the last guard against duplicate runs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import ObjectAlreadyExists, ObjectNotFound
from podium.orchestration.schedules import FillLimits, plan_fill
from podium.schemas.base import dump_for_storage
from podium.schemas.schedules import (
    DeploymentSchedule,
    DeploymentScheduleCreate,
    DeploymentScheduleUpdate,
    schedule_from_json,
)
from podium.schemas.states import StateDetails, StateType
from podium.storage import dialect
from podium.storage.flow_runs import generate_run_name
from podium.storage.tables import (
    deployment_schedules,
    deployments,
    flow_run_states,
    flow_runs,
)
from podium.storage.tables.base import utcnow

SCHEDULED = StateType.SCHEDULED.value
# Runs in this state wait for a deployment concurrency slot; they are kept.
AWAITING_CONCURRENCY_SLOT = "AwaitingConcurrencySlot"


def schedule_not_found(schedule_id: UUID) -> ObjectNotFound:
    return ObjectNotFound(f"Schedule {schedule_id} not found.")


# Reading and writing schedules ----------------------------------------------


async def read_schedules(
    connection: AsyncConnection, deployment_ids: Sequence[UUID]
) -> dict[UUID, list[DeploymentSchedule]]:
    """Return the schedules of each deployment, oldest first."""
    result: dict[UUID, list[DeploymentSchedule]] = {i: [] for i in deployment_ids}
    if not deployment_ids:
        return result
    query = (
        sa.select(deployment_schedules)
        .where(deployment_schedules.c.deployment_id.in_(deployment_ids))
        .order_by(deployment_schedules.c.created, deployment_schedules.c.id)
    )
    for row in await connection.execute(query):
        result[row.deployment_id].append(DeploymentSchedule.model_validate(row))
    return result


async def create_schedules(
    connection: AsyncConnection,
    deployment_id: UUID,
    schedules: Sequence[DeploymentScheduleCreate],
) -> list[DeploymentSchedule]:
    """Insert schedules for a deployment; a repeated slug is a conflict."""
    if not schedules:
        return []
    await _reject_taken_slugs(connection, deployment_id, [s.slug for s in schedules])
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "created": now,
            "updated": now,
            "deployment_id": deployment_id,
            "schedule": dump_for_storage(item.schedule),
            "active": item.active,
            "max_scheduled_runs": item.max_scheduled_runs,
            "parameters": item.parameters,
            "slug": item.slug,
        }
        for item in schedules
    ]
    await connection.execute(sa.insert(deployment_schedules), rows)
    return [DeploymentSchedule.model_validate(row) for row in rows]


async def _reject_taken_slugs(
    connection: AsyncConnection, deployment_id: UUID, slugs: list[str | None]
) -> None:
    wanted = [slug for slug in slugs if slug is not None]
    repeated = {slug for slug in wanted if wanted.count(slug) > 1}
    query = sa.select(deployment_schedules.c.slug).where(
        deployment_schedules.c.deployment_id == deployment_id,
        deployment_schedules.c.slug.in_(wanted),
    )
    conflicting = repeated | set((await connection.execute(query)).scalars())
    if conflicting:
        raise ObjectAlreadyExists(
            f"Deployment {deployment_id} already has a schedule with slug "
            f"{sorted(conflicting)[0]!r}; slugs must be unique within a deployment."
        )


async def update_schedule(
    connection: AsyncConnection,
    deployment_id: UUID,
    update: DeploymentScheduleUpdate,
    schedule_id: UUID | None = None,
    slug: str | None = None,
) -> None:
    """Change one schedule, found by id or by slug."""
    values = update.model_dump(exclude_unset=True, exclude={"replaces"})
    # A null for a required column means "unchanged", as clients send them.
    for required in ("schedule", "active", "parameters"):
        if values.get(required, ...) is None:
            del values[required]
    if "schedule" in values and update.schedule is not None:
        values["schedule"] = dump_for_storage(update.schedule)
    if "slug" in values and values["slug"] is not None and values["slug"] != slug:
        await _reject_taken_slugs(connection, deployment_id, [values["slug"]])
    where = deployment_schedules.c.deployment_id == deployment_id
    if schedule_id is not None:
        where = sa.and_(where, deployment_schedules.c.id == schedule_id)
    else:
        where = sa.and_(where, deployment_schedules.c.slug == slug)
    values.update(updated=utcnow(), scheduled_until=None, next_fill_at=None)
    result = await connection.execute(
        sa.update(deployment_schedules).where(where).values(**values)
    )
    if result.rowcount == 0:
        raise (
            schedule_not_found(schedule_id)
            if schedule_id
            else ObjectNotFound(f"Schedule with slug {slug!r} not found.")
        )


async def delete_schedule(
    connection: AsyncConnection, deployment_id: UUID, schedule_id: UUID
) -> None:
    result = await connection.execute(
        sa.delete(deployment_schedules).where(
            deployment_schedules.c.deployment_id == deployment_id,
            deployment_schedules.c.id == schedule_id,
        )
    )
    if result.rowcount == 0:
        raise schedule_not_found(schedule_id)


async def delete_schedules(connection: AsyncConnection, deployment_id: UUID) -> None:
    await connection.execute(
        sa.delete(deployment_schedules).where(
            deployment_schedules.c.deployment_id == deployment_id
        )
    )


# Invalidating scheduled runs -------------------------------------------------


async def lock_schedules(
    connection: AsyncConnection, deployment_ids: Sequence[UUID]
) -> None:
    """Lock the deployments' schedule rows until commit (PostgreSQL only)."""
    query = (
        sa.select(deployment_schedules.c.id)
        .where(deployment_schedules.c.deployment_id.in_(deployment_ids))
        .with_for_update()
    )
    await connection.execute(query)


def unstarted_scheduled_runs(
    deployment_ids: Sequence[UUID], auto_scheduled_only: bool, after: dt.datetime | None
) -> sa.ColumnElement[bool]:
    """Match the deployments' SCHEDULED runs that never ran.

    Runs waiting for a concurrency slot are not matched. With `after`, only
    runs due at or after it are matched.
    """
    clauses = [
        flow_runs.c.deployment_id.in_(deployment_ids),
        flow_runs.c.state_type == SCHEDULED,
        flow_runs.c.state_name != AWAITING_CONCURRENCY_SLOT,
        flow_runs.c.run_count == 0,
    ]
    if auto_scheduled_only:
        clauses.append(flow_runs.c.auto_scheduled.is_(True))
    if after is not None:
        clauses.append(flow_runs.c.next_scheduled_start_time >= after)
    return sa.and_(*clauses)


async def reset_scheduled_runs(
    connection: AsyncConnection, deployment_ids: Sequence[UUID], now: dt.datetime
) -> None:
    """Delete future auto-scheduled runs and make the schedules due again.

    Call after writing the deployment rows, per the module's ordering rule.
    """
    if not deployment_ids:
        return
    await lock_schedules(connection, deployment_ids)
    await connection.execute(
        sa.delete(flow_runs).where(unstarted_scheduled_runs(deployment_ids, True, now))
    )
    await connection.execute(
        sa.update(deployment_schedules)
        .where(deployment_schedules.c.deployment_id.in_(deployment_ids))
        .values(scheduled_until=None, next_fill_at=None)
    )


# Filling schedules -----------------------------------------------------------


def _due_schedules(now: dt.datetime, limit: int) -> sa.Select[Any]:
    return (
        sa.select(
            deployment_schedules.c.id,
            deployment_schedules.c.schedule,
            deployment_schedules.c.parameters,
            deployment_schedules.c.slug,
            deployment_schedules.c.max_scheduled_runs,
            deployment_schedules.c.scheduled_until,
            deployments.c.id.label("deployment_id"),
            deployments.c.flow_id,
            deployments.c.version,
            deployments.c.tags,
            deployments.c.labels,
            deployments.c.parameters.label("deployment_parameters"),
            deployments.c.work_queue_name,
            deployments.c.work_queue_id,
            deployments.c.infrastructure_document_id,
        )
        .select_from(
            deployment_schedules.join(
                deployments, deployments.c.id == deployment_schedules.c.deployment_id
            )
        )
        .where(
            deployment_schedules.c.active.is_(True),
            deployments.c.paused.is_(False),
            sa.or_(
                deployment_schedules.c.next_fill_at.is_(None),
                deployment_schedules.c.next_fill_at <= now,
            ),
        )
        .order_by(deployment_schedules.c.next_fill_at.nulls_first())
        .limit(limit)
        .with_for_update(of=deployment_schedules, skip_locked=True)
    )


async def fill_due_schedules(
    connection: AsyncConnection, now: dt.datetime, limits: FillLimits, batch_size: int
) -> tuple[int, int]:
    """Create the runs that up to `batch_size` due schedules are missing.

    Returns the number of schedules looked at and of runs created.
    """
    rows = (await connection.execute(_due_schedules(now, batch_size))).all()
    runs: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    for row in rows:
        schedule = schedule_from_json(row.schedule)
        row_limits = limits
        if row.max_scheduled_runs is not None:
            row_limits = FillLimits(
                limits.horizon, limits.min_runs, row.max_scheduled_runs
            )
        plan = plan_fill(schedule.occurrences, now, row.scheduled_until, row_limits)
        runs.extend(
            _scheduled_run(row, type(schedule).__name__, at, now)
            for at in plan.new_times
        )
        marks.append(
            {
                "schedule_id": row.id,
                "scheduled_until": plan.scheduled_until,
                # A finished series is parked far ahead instead of polled.
                "next_fill_at": plan.next_fill
                or dt.datetime.max.replace(tzinfo=dt.UTC),
            }
        )
    created = await insert_scheduled_runs(connection, runs, now)
    if marks:
        await connection.execute(
            sa.update(deployment_schedules)
            .where(deployment_schedules.c.id == sa.bindparam("schedule_id"))
            .values(
                scheduled_until=sa.bindparam("scheduled_until"),
                next_fill_at=sa.bindparam("next_fill_at"),
            ),
            marks,
        )
    return len(rows), created


def scheduled_idempotency_key(
    deployment_id: UUID, schedule_id: UUID, at: dt.datetime
) -> str:
    """Key of the run a schedule creates for one occurrence."""
    return f"scheduled {deployment_id} {schedule_id} {at.isoformat()}"


def _scheduled_run(
    row: Any, kind: str, at: dt.datetime, now: dt.datetime
) -> dict[str, Any]:
    labels = dict(row.labels or {})
    labels["prefect.flow.id"] = str(row.flow_id)
    labels["prefect.deployment.id"] = str(row.deployment_id)
    return {
        "id": uuid.uuid4(),
        "created": now,
        "updated": now,
        "name": generate_run_name(),
        "flow_id": row.flow_id,
        "deployment_id": row.deployment_id,
        "deployment_version": row.version,
        "work_queue_name": row.work_queue_name,
        "work_queue_id": row.work_queue_id,
        "infrastructure_document_id": row.infrastructure_document_id,
        "parameters": {**(row.deployment_parameters or {}), **(row.parameters or {})},
        "idempotency_key": scheduled_idempotency_key(row.deployment_id, row.id, at),
        "tags": ["auto-scheduled", *(row.tags or [])],
        "labels": labels,
        "auto_scheduled": True,
        "expected_start_time": at,
        "next_scheduled_start_time": at,
        "created_by": {
            "id": str(row.id),
            "display_value": row.slug or kind,
            "type": "SCHEDULE",
        },
    }


async def insert_scheduled_runs(
    connection: AsyncConnection, runs: list[dict[str, Any]], now: dt.datetime
) -> int:
    """Insert SCHEDULED runs, skipping any whose idempotency key exists.

    Each row needs `id`, `flow_id`, `idempotency_key` and
    `next_scheduled_start_time`. Returns how many runs were inserted.
    """
    if not runs:
        return 0
    for run in runs:
        run.setdefault("empirical_policy", {})
        run.setdefault("context", {})
        run.setdefault("job_variables", {})
        run["state_id"] = uuid.uuid4()
        run["state_type"] = SCHEDULED
        run["state_name"] = "Scheduled"
        run["state_timestamp"] = now
    # One statement for all rows: SQLAlchemy batches it into multi-row
    # INSERTs ("insertmanyvalues") and compiles it once.
    statement = (
        dialect.insert(connection, flow_runs)
        .on_conflict_do_nothing(
            index_elements=[flow_runs.c.flow_id, flow_runs.c.idempotency_key]
        )
        .returning(flow_runs.c.id)
    )
    inserted = set((await connection.execute(statement, runs)).scalars())
    states = [_scheduled_state(run, now) for run in runs if run["id"] in inserted]
    if states:
        await connection.execute(sa.insert(flow_run_states), states)
    return len(inserted)


def _scheduled_state(run: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    details = StateDetails(
        flow_run_id=run["id"], scheduled_time=run["next_scheduled_start_time"]
    )
    return {
        "id": run["state_id"],
        "created": now,
        "updated": now,
        "flow_run_id": run["id"],
        "type": SCHEDULED,
        "name": "Scheduled",
        "timestamp": now,
        "message": "Flow run scheduled",
        "state_details": details.model_dump(mode="json"),
        "data": None,
    }
