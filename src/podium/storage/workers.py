"""Queries for workers: heartbeats, their status and the runs they poll for."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import ObjectNotFound
from podium.orchestration.context import StateType
from podium.schemas.work_pools import ScheduledRun, WorkPoolStatus
from podium.schemas.workers import Worker, WorkerFilter, WorkerStatus
from podium.storage import dialect
from podium.storage.deployment_concurrency import deployment_open_slots
from podium.storage.filtering import Clause, compile_filter
from podium.storage.tables import flow_runs, work_pools, work_queues, workers
from podium.storage.work_pools import (
    count_pool_active_slots,
    read_work_pool_by_name,
    set_work_pool_status,
)
from podium.storage.work_queues import count_active_slots, record_polls


def worker_criteria(flt: WorkerFilter | None) -> Clause:
    return compile_filter(
        flt,
        {
            "last_heartbeat_time": workers.c.last_heartbeat_time,
            "status": workers.c.status,
        },
    )


async def record_heartbeat(
    connection: AsyncConnection,
    work_pool_name: str,
    name: str,
    heartbeat_interval_seconds: int | None,
    now: dt.datetime,
) -> None:
    """Upsert the worker as ONLINE and mark its pool READY unless paused."""
    pool = await read_work_pool_by_name(connection, work_pool_name)
    changing: dict[str, Any] = {
        "last_heartbeat_time": now,
        "status": WorkerStatus.ONLINE.value,
        "updated": now,
    }
    if heartbeat_interval_seconds is not None:
        changing["heartbeat_interval_seconds"] = heartbeat_interval_seconds
    statement = (
        dialect.insert(connection, workers)
        .values(work_pool_id=pool.id, name=name, created=now, **changing)
        .on_conflict_do_update(index_elements=["work_pool_id", "name"], set_=changing)
    )
    await connection.execute(statement)
    if pool.status == WorkPoolStatus.NOT_READY:
        await set_work_pool_status(connection, pool.id, WorkPoolStatus.READY, now)


async def read_workers(
    connection: AsyncConnection,
    work_pool_name: str,
    where: Clause,
    limit: int | None = None,
    offset: int = 0,
) -> list[Worker]:
    pool = await read_work_pool_by_name(connection, work_pool_name)
    query = (
        sa.select(workers)
        .where(workers.c.work_pool_id == pool.id, where)
        .order_by(workers.c.last_heartbeat_time.desc(), workers.c.name)
        .limit(limit)
        .offset(offset)
    )
    return [Worker.model_validate(row) for row in await connection.execute(query)]


async def delete_worker(
    connection: AsyncConnection, work_pool_name: str, name: str
) -> None:
    pool = await read_work_pool_by_name(connection, work_pool_name)
    result = await connection.execute(
        sa.delete(workers).where(
            workers.c.work_pool_id == pool.id, workers.c.name == name
        )
    )
    if not result.rowcount:
        raise ObjectNotFound(
            f"Worker {name!r} not found in work pool {work_pool_name!r}."
        )


async def mark_stale_workers_offline(
    connection: AsyncConnection, now: dt.datetime, offline_after_seconds: float
) -> int:
    """Mark ONLINE workers OFFLINE after three missed heartbeats, then update pools.

    A worker that never sent its interval is given `offline_after_seconds`.
    Pools left with no ONLINE worker go from READY to NOT_READY. Returns the
    number of workers and pools changed.
    """
    online = (
        await connection.execute(
            sa.select(
                workers.c.id,
                workers.c.last_heartbeat_time,
                workers.c.heartbeat_interval_seconds,
            ).where(workers.c.status == WorkerStatus.ONLINE.value)
        )
    ).all()
    stale = [
        row.id
        for row in online
        if row.last_heartbeat_time is None
        or (now - row.last_heartbeat_time).total_seconds()
        > (
            row.heartbeat_interval_seconds * 3
            if row.heartbeat_interval_seconds
            else offline_after_seconds
        )
    ]
    if stale:
        await connection.execute(
            sa.update(workers)
            .where(workers.c.id.in_(stale))
            .values(status=WorkerStatus.OFFLINE.value, updated=now)
        )

    has_online = (
        sa.select(workers.c.id)
        .where(
            workers.c.work_pool_id == work_pools.c.id,
            workers.c.status == WorkerStatus.ONLINE.value,
        )
        .exists()
    )
    result = await connection.execute(
        sa.update(work_pools)
        .where(work_pools.c.status == WorkPoolStatus.READY.value, sa.not_(has_online))
        .values(status=WorkPoolStatus.NOT_READY.value, last_transitioned_status_at=now)
    )
    return len(stale) + int(result.rowcount or 0)


# --- Runs for workers ---------------------------------------------------------


def _candidate_runs(
    queue_id: UUID,
    scheduled_before: dt.datetime | None,
    scheduled_after: dt.datetime | None,
    open_slots: sa.Subquery | None,
    limit: int,
) -> sa.Select[Any]:
    """Select a queue's SCHEDULED runs in start-time order, capped per deployment.

    When deployments with a concurrency limit are given as `open_slots`
    (deployment_id, slots), each such deployment contributes at most its open
    slots, so a deployment with many waiting runs cannot fill the batch ahead
    of other deployments' runs.
    """
    retry_type = flow_runs.c.empirical_policy["retry_type"].as_string()
    conditions = [
        flow_runs.c.work_queue_id == queue_id,
        flow_runs.c.state_type == StateType.SCHEDULED.value,
        # Runs that retry inside their own process are not for workers.
        sa.or_(retry_type.is_(None), retry_type != "in_process"),
    ]
    if scheduled_before is not None:
        conditions.append(flow_runs.c.next_scheduled_start_time <= scheduled_before)
    if scheduled_after is not None:
        conditions.append(flow_runs.c.next_scheduled_start_time >= scheduled_after)
    order = (flow_runs.c.next_scheduled_start_time.asc(), flow_runs.c.id)
    if open_slots is None:
        return (
            sa.select(flow_runs.c.id, flow_runs.c.deployment_id)
            .where(*conditions)
            .order_by(*order)
            .limit(limit)
        )

    ranked = (
        sa.select(
            flow_runs.c.id,
            flow_runs.c.deployment_id,
            flow_runs.c.next_scheduled_start_time,
            sa.func.row_number()
            .over(partition_by=flow_runs.c.deployment_id, order_by=order)
            .label("deployment_rank"),
        )
        .where(*conditions)
        .subquery()
    )
    return (
        sa.select(ranked.c.id, ranked.c.deployment_id)
        .select_from(
            ranked.outerjoin(
                open_slots, open_slots.c.deployment_id == ranked.c.deployment_id
            )
        )
        .where(
            sa.or_(
                open_slots.c.slots.is_(None),
                ranked.c.deployment_rank <= open_slots.c.slots,
            )
        )
        .order_by(ranked.c.next_scheduled_start_time.asc(), ranked.c.id)
        .limit(limit)
    )


async def _polled_queues(
    connection: AsyncConnection,
    work_pool_id: UUID,
    work_pool_name: str,
    names: list[str] | None,
) -> list[Any]:
    query = sa.select(work_queues).where(work_queues.c.work_pool_id == work_pool_id)
    if names:
        query = query.where(work_queues.c.name.in_(names))
    rows = (await connection.execute(query.order_by(work_queues.c.priority))).all()
    missing = set(names or []) - {row.name for row in rows}
    if missing:
        raise ObjectNotFound(
            f"Work pool queue '{work_pool_name}/{sorted(missing)[0]}' not found."
        )
    return list(rows)


async def get_scheduled_flow_runs(
    connection: AsyncConnection,
    work_pool_name: str,
    work_queue_names: list[str] | None,
    scheduled_before: dt.datetime | None,
    scheduled_after: dt.datetime | None,
    limit: int,
) -> tuple[list[ScheduledRun], list[UUID]]:
    """Choose the SCHEDULED runs a worker of the pool should start next.

    Queues are served in priority order (1 first) and each queue's runs in
    start-time order. Nothing is returned from a paused pool or queue, or
    beyond the open slots of the pool, of a queue or of a deployment with a
    concurrency limit; PENDING, RUNNING and CANCELLING runs hold slots.

    Returns the chosen runs and the ids of the queues that were polled.
    """
    pool = await read_work_pool_by_name(connection, work_pool_name)
    queues = await _polled_queues(connection, pool.id, work_pool_name, work_queue_names)
    polled_ids = [row.id for row in queues]
    if pool.is_paused or limit <= 0:
        return [], polled_ids

    remaining = limit
    if pool.concurrency_limit is not None:
        used = (await count_pool_active_slots(connection, [pool.id])).get(pool.id, 0)
        remaining = min(remaining, max(0, pool.concurrency_limit - used))
    active = await count_active_slots(
        connection, [q.id for q in queues if q.concurrency_limit is not None]
    )
    deployment_slots, open_slots = await deployment_open_slots(connection, polled_ids)

    chosen: list[ScheduledRun] = []
    for queue in queues:
        if remaining <= 0:
            break
        if queue.is_paused:
            continue
        room = remaining
        if queue.concurrency_limit is not None:
            room = min(room, max(0, queue.concurrency_limit - active.get(queue.id, 0)))
        if room <= 0:
            continue
        query = _candidate_runs(
            queue.id, scheduled_before, scheduled_after, open_slots, room
        )
        for row in await connection.execute(query):
            # A deployment's cap is shared by all queues of the pool.
            if row.deployment_id in deployment_slots:
                if deployment_slots[row.deployment_id] <= 0:
                    continue
                deployment_slots[row.deployment_id] -= 1
            chosen.append(
                ScheduledRun(
                    work_pool_id=pool.id, work_queue_id=queue.id, flow_run_id=row.id
                )
            )
            remaining -= 1
    return chosen, polled_ids


async def read_flow_runs_in_order(
    connection: AsyncConnection, ids: list[UUID]
) -> list[Any]:
    """Read full flow runs (FlowRun models) for `ids`, in the order given."""
    from podium.storage import flow_runs as flow_run_storage

    if not ids:
        return []
    runs = await flow_run_storage.read_flow_runs(connection, flow_runs.c.id.in_(ids))
    by_id = {run.id: run for run in runs}
    return [by_id[run_id] for run_id in ids]


async def read_flow_run_documents_in_order(
    connection: AsyncConnection, ids: list[UUID]
) -> list[dict[str, Any]]:
    """Read flow runs for `ids` as JSON-ready dicts, in the order given."""
    from podium.storage import flow_runs as flow_run_storage

    if not ids:
        return []
    documents = await flow_run_storage.read_flow_run_documents(
        connection, flow_runs.c.id.in_(ids)
    )
    by_id = {document["id"]: document for document in documents}
    return [by_id[str(run_id)] for run_id in ids]


async def record_worker_poll(
    connection: AsyncConnection, work_queue_ids: list[UUID], now: dt.datetime
) -> None:
    """Record a poll on the queues and on the deployments that use them."""
    await record_polls(connection, work_queue_ids, now)
    from podium.storage.deployment_concurrency import mark_deployments_polled

    await mark_deployments_polled(connection, work_queue_ids, now)
