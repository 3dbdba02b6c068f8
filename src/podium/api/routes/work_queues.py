"""Routes for `/work_queues`, the id-based work queue API of Prefect 2 clients."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from fastapi import APIRouter, Body, Header, Path, status

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.schemas.flow_runs import FlowRun
from podium.schemas.work_queues import (
    WorkQueue,
    WorkQueueConcurrencyStatus,
    WorkQueueCreate,
    WorkQueueFilter,
    WorkQueueStatusDetail,
    WorkQueueUpdate,
)
from podium.storage import work_queues as queues
from podium.storage import workers

router = APIRouter(prefix="/work_queues", tags=["Work Queues"])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_work_queue(work_queue: WorkQueueCreate, db: DatabaseDep) -> WorkQueue:
    """Create a queue in the default agent pool."""
    async with db.transaction() as connection:
        return await queues.create_legacy_work_queue(connection, work_queue)


@router.post("/filter")
async def read_work_queues(
    db: DatabaseDep,
    work_queues: WorkQueueFilter | None = Body(None, embed=True),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[WorkQueue]:
    async with db.read() as connection:
        where = queues.work_queue_criteria(work_queues)
        return await queues.read_work_queues(connection, where, limit, offset)


@router.get("/name/{name}")
async def read_work_queue_by_name(db: DatabaseDep, name: str = Path()) -> WorkQueue:
    async with db.read() as connection:
        return await queues.read_legacy_work_queue_by_name(connection, name)


@router.get("/{id}")
async def read_work_queue(id: UUID, db: DatabaseDep) -> WorkQueue:  # noqa: A002 - contract name
    async with db.read() as connection:
        return await queues.read_work_queue(connection, id)


@router.patch("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def update_work_queue(
    id: UUID,  # noqa: A002
    work_queue: WorkQueueUpdate,
    db: DatabaseDep,
) -> None:
    async with db.transaction() as connection:
        await queues.update_work_queue(connection, id, work_queue)


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_work_queue(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await queues.delete_work_queue(connection, id)


@router.post("/{id}/get_runs")
async def read_work_queue_runs(
    id: UUID,  # noqa: A002
    db: DatabaseDep,
    limit: int = LimitBody(),
    scheduled_before: dt.datetime | None = Body(None, embed=True),
    x_prefect_ui: bool = Header(False),
) -> list[FlowRun]:
    """Return the queue's next SCHEDULED runs, recording a poll for callers other than the UI."""
    async with db.read() as connection:
        queue = await queues.read_work_queue(connection, id)
        assert queue.work_pool_name is not None
        chosen, polled = await workers.get_scheduled_flow_runs(
            connection,
            queue.work_pool_name,
            [queue.name],
            scheduled_before,
            None,
            limit,
        )
        runs = await workers.read_flow_runs_in_order(
            connection, [c.flow_run_id for c in chosen]
        )
    if not x_prefect_ui:
        async with db.transaction() as connection:
            await workers.record_worker_poll(connection, polled, _now())
    return runs


@router.get("/{id}/status")
async def read_work_queue_status(id: UUID, db: DatabaseDep) -> WorkQueueStatusDetail:  # noqa: A002
    async with db.read() as connection:
        return await queues.read_work_queue_status(connection, id, _now())


@router.post("/{id}/concurrency_status")
async def read_work_queue_concurrency_status(
    id: UUID,  # noqa: A002
    db: DatabaseDep,
    page: int = Body(1, ge=1),
    limit: int = LimitBody(),
) -> WorkQueueConcurrencyStatus:
    async with db.read() as connection:
        queue = await queues.read_work_queue(connection, id)
        total, runs = await queues.read_slot_holders(
            connection, id, _now(), limit, (page - 1) * limit
        )
    return WorkQueueConcurrencyStatus(
        active_slots=total,
        concurrency_limit=queue.concurrency_limit,
        flow_runs=runs,
        count=total,
        limit=limit,
        pages=(total + limit - 1) // limit if limit > 0 else 0,
        page=page,
    )
