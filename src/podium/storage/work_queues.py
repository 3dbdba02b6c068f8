"""Queries for work queues, the ordered lanes inside a work pool."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import Conflict, ObjectAlreadyExists, ObjectNotFound
from podium.orchestration.context import StateType
from podium.schemas.work_queues import (
    FlowRunSlotSummary,
    WorkQueue,
    WorkQueueCreate,
    WorkQueueFilter,
    WorkQueueHealthPolicy,
    WorkQueueStatus,
    WorkQueueStatusDetail,
    WorkQueueUpdate,
)
from podium.storage.filtering import Clause, compile_filter
from podium.storage.tables import flow_runs, work_pools, work_queues

# Runs in these states hold a slot of their work queue and of its pool.
SLOT_STATES = (StateType.PENDING, StateType.RUNNING, StateType.CANCELLING)

# The pool that contains queues created without one, as in the Prefect API.
DEFAULT_AGENT_POOL_NAME = "default-agent-pool"

# A queue polled within this many seconds counts as READY when it is resumed.
RECENT_POLL_SECONDS = 60


def _queue_select() -> sa.Select[Any]:
    return sa.select(work_queues, work_pools.c.name.label("work_pool_name")).join(
        work_pools, work_pools.c.id == work_queues.c.work_pool_id
    )


def work_queue_criteria(flt: WorkQueueFilter | None) -> Clause:
    return compile_filter(
        flt,
        {
            "id": work_queues.c.id,
            "name": {
                "any_": lambda names: work_queues.c.name.in_(names),
                "startswith_": lambda prefixes: sa.or_(
                    sa.false(),
                    *(
                        work_queues.c.name.ilike(_prefix(p), escape="\\")
                        for p in prefixes
                    ),
                ),
            },
        },
    )


def _prefix(value: str) -> str:
    from podium.schemas.filtering import escape_like

    return f"{escape_like(value)}%"


async def count_active_slots(
    connection: AsyncConnection, queue_ids: list[UUID]
) -> dict[UUID, int]:
    """Count the slot-holding runs of each queue; queues with none are left out."""
    if not queue_ids:
        return {}
    query = (
        sa.select(flow_runs.c.work_queue_id, sa.func.count())
        .where(
            flow_runs.c.work_queue_id.in_(queue_ids),
            flow_runs.c.state_type.in_([s.value for s in SLOT_STATES]),
        )
        .group_by(flow_runs.c.work_queue_id)
    )
    return {row[0]: int(row[1]) for row in await connection.execute(query)}


async def _with_active_slots(
    connection: AsyncConnection, rows: list[Any]
) -> list[WorkQueue]:
    queues = [WorkQueue.model_validate(row) for row in rows]
    limited = [q.id for q in queues if q.concurrency_limit is not None]
    counts = await count_active_slots(connection, limited)
    for queue in queues:
        if queue.concurrency_limit is not None:
            queue.active_slots = counts.get(queue.id, 0)
    return queues


def _queue_not_found(work_queue_id: UUID) -> ObjectNotFound:
    return ObjectNotFound(f"Work queue {work_queue_id} not found.")


async def read_work_queue(
    connection: AsyncConnection, work_queue_id: UUID
) -> WorkQueue:
    row = (
        await connection.execute(
            _queue_select().where(work_queues.c.id == work_queue_id)
        )
    ).first()
    if row is None:
        raise _queue_not_found(work_queue_id)
    return (await _with_active_slots(connection, [row]))[0]


async def read_work_queue_by_name(
    connection: AsyncConnection, work_pool_name: str, name: str
) -> WorkQueue:
    """Read a queue of a named pool; 404 names the pool or the queue that is missing."""
    pool_id = await _pool_id(connection, work_pool_name)
    row = (
        await connection.execute(
            _queue_select().where(
                work_queues.c.work_pool_id == pool_id, work_queues.c.name == name
            )
        )
    ).first()
    if row is None:
        raise ObjectNotFound(f"Work pool queue '{work_pool_name}/{name}' not found.")
    return (await _with_active_slots(connection, [row]))[0]


async def read_legacy_work_queue_by_name(
    connection: AsyncConnection, name: str
) -> WorkQueue:
    """Read a queue by name alone, preferring the default agent pool's queue."""
    query = (
        _queue_select()
        .where(work_queues.c.name == name)
        .order_by(
            (work_pools.c.name == DEFAULT_AGENT_POOL_NAME).desc(), work_queues.c.created
        )
        .limit(1)
    )
    row = (await connection.execute(query)).first()
    if row is None:
        raise ObjectNotFound(f"Work queue {name!r} not found.")
    return (await _with_active_slots(connection, [row]))[0]


async def read_work_queues(
    connection: AsyncConnection,
    where: Clause,
    limit: int | None = None,
    offset: int = 0,
    work_pool_id: UUID | None = None,
) -> list[WorkQueue]:
    """Read queues: a pool's in priority order, or all of them by name."""
    query = _queue_select().where(where)
    if work_pool_id is not None:
        query = query.where(work_queues.c.work_pool_id == work_pool_id).order_by(
            work_queues.c.priority, work_queues.c.name
        )
    else:
        query = query.order_by(work_queues.c.name, work_queues.c.id)
    rows = (await connection.execute(query.limit(limit).offset(offset))).all()
    return await _with_active_slots(connection, list(rows))


async def count_work_queues(
    connection: AsyncConnection, where: Clause, work_pool_id: UUID | None = None
) -> int:
    query = sa.select(sa.func.count()).select_from(work_queues).where(where)
    if work_pool_id is not None:
        query = query.where(work_queues.c.work_pool_id == work_pool_id)
    return int((await connection.execute(query)).scalar_one())


async def _pool_id(connection: AsyncConnection, work_pool_name: str) -> UUID:
    pool_id = (
        await connection.execute(
            sa.select(work_pools.c.id).where(work_pools.c.name == work_pool_name)
        )
    ).scalar()
    if pool_id is None:
        raise ObjectNotFound(f'Work pool "{work_pool_name}" not found.')
    return pool_id  # type: ignore[no-any-return]


async def _first_free_priority(connection: AsyncConnection, work_pool_id: UUID) -> int:
    """Return the lowest priority not taken in the pool (1, 2, ... without gaps)."""
    taken = (
        await connection.execute(
            sa.select(work_queues.c.priority).where(
                work_queues.c.work_pool_id == work_pool_id
            )
        )
    ).scalars()
    used = set(taken)
    priority = 1
    while priority in used:
        priority += 1
    return priority


async def insert_work_queue(
    connection: AsyncConnection,
    work_pool_id: UUID,
    queue: WorkQueueCreate,
    now: dt.datetime | None = None,
) -> UUID:
    """Insert a queue into a pool and return its id; 409 when the name is taken."""
    existing = (
        await connection.execute(
            sa.select(work_queues.c.id).where(
                work_queues.c.work_pool_id == work_pool_id,
                work_queues.c.name == queue.name,
            )
        )
    ).first()
    if existing is not None:
        raise ObjectAlreadyExists(
            f"A work queue named {queue.name!r} already exists in this work pool."
        )
    values = queue.model_dump(mode="json", exclude={"priority"})
    priority = queue.priority or await _first_free_priority(connection, work_pool_id)
    status = WorkQueueStatus.PAUSED if queue.is_paused else WorkQueueStatus.NOT_READY
    queue_id = (
        await connection.execute(
            sa.insert(work_queues)
            .values(
                **values,
                work_pool_id=work_pool_id,
                priority=priority,
                status=status.value,
            )
            .returning(work_queues.c.id)
        )
    ).scalar_one()
    if queue.priority:
        await reorder_priorities(connection, work_pool_id, queue_id, queue.priority)
    return queue_id  # type: ignore[no-any-return]


async def create_work_queue(
    connection: AsyncConnection, work_pool_name: str, queue: WorkQueueCreate
) -> WorkQueue:
    pool_id = await _pool_id(connection, work_pool_name)
    queue_id = await insert_work_queue(connection, pool_id, queue)
    return await read_work_queue(connection, queue_id)


async def create_legacy_work_queue(
    connection: AsyncConnection, queue: WorkQueueCreate
) -> WorkQueue:
    """Create a queue with no pool named: it goes into the default agent pool."""
    from podium.storage.work_pools import ensure_default_agent_pool

    pool_id = await ensure_default_agent_pool(connection)
    queue_id = await insert_work_queue(connection, pool_id, queue)
    return await read_work_queue(connection, queue_id)


async def reorder_priorities(
    connection: AsyncConnection, work_pool_id: UUID, moved_id: UUID, priority: int
) -> None:
    """Give one queue `priority` and shift the others so priorities stay unique.

    Queues keep their order. A queue whose priority collides with the one
    before it moves up by one, so only the queues in the way change.
    """
    rows = (
        await connection.execute(
            sa.select(work_queues.c.id, work_queues.c.priority)
            .where(work_queues.c.work_pool_id == work_pool_id)
            .order_by(work_queues.c.priority, work_queues.c.created)
        )
    ).all()
    others = [(row.id, row.priority) for row in rows if row.id != moved_id]
    position = next(
        (i for i, (_, p) in enumerate(others) if p >= priority), len(others)
    )
    ordered = others[:position] + [(moved_id, priority)] + others[position:]

    previous = 0
    for queue_id, current in ordered:
        target = current if current > previous else previous + 1
        if queue_id == moved_id or target != current:
            await connection.execute(
                sa.update(work_queues)
                .where(work_queues.c.id == queue_id)
                .values(priority=target)
            )
        previous = target


def _is_recent(last_polled: dt.datetime | None, now: dt.datetime) -> bool:
    return (
        last_polled is not None
        and (now - last_polled).total_seconds() <= RECENT_POLL_SECONDS
    )


async def update_work_queue(
    connection: AsyncConnection,
    work_queue_id: UUID,
    update: WorkQueueUpdate,
    now: dt.datetime | None = None,
) -> None:
    now = now or dt.datetime.now(dt.UTC)
    current = await read_work_queue(connection, work_queue_id)
    values = update.model_dump(mode="json", exclude_unset=True)
    for key in ("last_polled",):
        if key in values:
            values[key] = getattr(update, key)

    if "name" in values and values["name"] != current.name:
        if values["name"] is None:
            del values["name"]
        else:
            taken = (
                await connection.execute(
                    sa.select(work_queues.c.id).where(
                        work_queues.c.work_pool_id == current.work_pool_id,
                        work_queues.c.name == values["name"],
                    )
                )
            ).first()
            if taken is not None:
                raise ObjectAlreadyExists(
                    f"A work queue named {values['name']!r} already exists in this work pool."
                )

    if "is_paused" in values:
        if values["is_paused"]:
            values["status"] = WorkQueueStatus.PAUSED.value
        elif current.status == WorkQueueStatus.PAUSED:
            last_polled = values.get("last_polled", current.last_polled)
            ready = _is_recent(last_polled, now)
            values["status"] = (
                WorkQueueStatus.READY if ready else WorkQueueStatus.NOT_READY
            ).value

    priority = values.pop("priority", None)
    if values:
        await connection.execute(
            sa.update(work_queues)
            .where(work_queues.c.id == work_queue_id)
            .values(**values)
        )
    if priority is not None and current.work_pool_id is not None:
        await reorder_priorities(
            connection, current.work_pool_id, work_queue_id, priority
        )


async def delete_work_queue(connection: AsyncConnection, work_queue_id: UUID) -> None:
    """Delete a queue that is not its pool's default queue; its runs keep running."""
    current = await read_work_queue(connection, work_queue_id)
    is_default = (
        await connection.execute(
            sa.select(work_pools.c.id).where(
                work_pools.c.default_queue_id == work_queue_id
            )
        )
    ).first()
    if is_default is not None:
        raise Conflict(
            f"Work queue {current.name!r} is the default queue of work pool "
            f"{current.work_pool_name!r} and cannot be deleted."
        )
    await connection.execute(
        sa.update(flow_runs)
        .where(flow_runs.c.work_queue_id == work_queue_id)
        .values(work_queue_id=None)
    )
    await connection.execute(
        sa.delete(work_queues).where(work_queues.c.id == work_queue_id)
    )


async def resolve_work_queue(
    connection: AsyncConnection,
    work_pool_name: str,
    work_queue_name: str | None = None,
    create_missing: bool = False,
) -> WorkQueue:
    """Find the queue a run or deployment names: a pool's named or default queue.

    Raises ObjectNotFound for a missing pool, and for a missing queue unless
    `create_missing` (deployments create their queue on first use).
    """
    if work_queue_name is None:
        pool = (
            await connection.execute(
                sa.select(work_pools.c.default_queue_id).where(
                    work_pools.c.name == work_pool_name
                )
            )
        ).first()
        if pool is None:
            raise ObjectNotFound(f'Work pool "{work_pool_name}" not found.')
        return await read_work_queue(connection, pool.default_queue_id)
    try:
        return await read_work_queue_by_name(
            connection, work_pool_name, work_queue_name
        )
    except ObjectNotFound:
        if not create_missing:
            raise
    pool_id = await _pool_id(connection, work_pool_name)
    queue_id = await insert_work_queue(
        connection, pool_id, WorkQueueCreate(name=work_queue_name)
    )
    return await read_work_queue(connection, queue_id)


async def ensure_legacy_work_queue(connection: AsyncConnection, name: str) -> WorkQueue:
    """Find or create a queue by name alone, in the default agent pool."""
    try:
        return await read_legacy_work_queue_by_name(connection, name)
    except ObjectNotFound:
        return await create_legacy_work_queue(
            connection, WorkQueueCreate(name=name, priority=1)
        )


async def record_polls(
    connection: AsyncConnection, work_queue_ids: list[UUID], now: dt.datetime
) -> None:
    """Record a worker's poll: set `last_polled` and make NOT_READY queues READY."""
    if not work_queue_ids:
        return
    await connection.execute(
        sa.update(work_queues)
        .where(work_queues.c.id.in_(work_queue_ids))
        .values(
            last_polled=now,
            status=sa.case(
                (
                    work_queues.c.status == WorkQueueStatus.NOT_READY.value,
                    WorkQueueStatus.READY.value,
                ),
                else_=work_queues.c.status,
            ),
        )
    )


async def read_work_queue_status(
    connection: AsyncConnection, work_queue_id: UUID, now: dt.datetime
) -> WorkQueueStatusDetail:
    queue = await read_work_queue(connection, work_queue_id)
    late_runs = (
        await connection.execute(
            sa.select(sa.func.count())
            .select_from(flow_runs)
            .where(
                flow_runs.c.work_queue_id == work_queue_id,
                flow_runs.c.state_name == "Late",
            )
        )
    ).scalar_one()
    policy = WorkQueueHealthPolicy(
        maximum_late_runs=0, maximum_seconds_since_last_polled=60
    )
    return WorkQueueStatusDetail(
        healthy=policy.is_healthy(int(late_runs), queue.last_polled, now),
        late_runs_count=int(late_runs),
        last_polled=queue.last_polled,
        health_check_policy=policy,
    )


def slot_holders_query(where: Clause) -> sa.Select[Any]:
    """Select the summary columns of slot-holding runs matching `where`."""
    return (
        sa.select(
            flow_runs.c.id,
            flow_runs.c.name,
            flow_runs.c.state_type,
            flow_runs.c.state_name,
            flow_runs.c.start_time,
            flow_runs.c.state_timestamp,
            flow_runs.c.work_queue_id,
        )
        .where(where, flow_runs.c.state_type.in_([s.value for s in SLOT_STATES]))
        .order_by(flow_runs.c.id)
    )


def slot_summary(row: Any, now: dt.datetime) -> FlowRunSlotSummary:
    in_state = (
        (now - row.state_timestamp).total_seconds() if row.state_timestamp else None
    )
    return FlowRunSlotSummary(
        id=row.id,
        name=row.name,
        state_type=row.state_type,
        state_name=row.state_name,
        start_time=row.start_time,
        state_timestamp=row.state_timestamp,
        time_in_current_state=in_state,
    )


async def read_slot_holders(
    connection: AsyncConnection,
    work_queue_id: UUID,
    now: dt.datetime,
    limit: int,
    offset: int,
) -> tuple[int, list[FlowRunSlotSummary]]:
    """Return the number of slot-holding runs of a queue and one page of them."""
    await read_work_queue(connection, work_queue_id)
    where = flow_runs.c.work_queue_id == work_queue_id
    total = (
        await connection.execute(
            sa.select(sa.func.count()).select_from(slot_holders_query(where).subquery())
        )
    ).scalar_one()
    rows = await connection.execute(
        slot_holders_query(where).limit(limit).offset(offset)
    )
    return int(total), [slot_summary(row, now) for row in rows]


async def mark_idle_queues_not_ready(
    connection: AsyncConnection, now: dt.datetime
) -> int:
    """Move READY queues not polled for `RECENT_POLL_SECONDS` to NOT_READY."""
    idle_since = now - dt.timedelta(seconds=RECENT_POLL_SECONDS)
    result = await connection.execute(
        sa.update(work_queues)
        .where(
            work_queues.c.status == WorkQueueStatus.READY.value,
            sa.or_(
                work_queues.c.last_polled.is_(None),
                work_queues.c.last_polled < idle_since,
            ),
        )
        .values(status=WorkQueueStatus.NOT_READY.value)
    )
    return int(result.rowcount or 0)
