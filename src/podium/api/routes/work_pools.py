"""Routes for `/work_pools`: pools, their queues, their workers and runs for workers."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Body, Path, Response, status
from pydantic import TypeAdapter

from podium.api.dependencies import MAX_LIMIT, DatabaseDep, LimitBody, OffsetBody
from podium.api.routes.flow_runs import dump_or_fall_back
from podium.schemas.base import PodiumModel
from podium.schemas.flow_runs import FlowRun
from podium.schemas.work_pools import (
    WorkPool,
    WorkPoolConcurrencyStatus,
    WorkPoolCreate,
    WorkPoolFilter,
    WorkPoolUpdate,
)
from podium.schemas.work_queues import (
    WorkQueue,
    WorkQueueCreate,
    WorkQueueFilter,
    WorkQueueUpdate,
)
from podium.schemas.workers import Worker, WorkerFilter
from podium.storage import work_pools as pools
from podium.storage import work_queues as queues
from podium.storage import workers

router = APIRouter(prefix="/work_pools", tags=["Work Pools"])


class WorkerFlowRunResponse(PodiumModel):
    work_pool_id: UUID
    work_queue_id: UUID
    flow_run: FlowRun


_POLL_RESPONSE = TypeAdapter(list[WorkerFlowRunResponse])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- Work pools ---------------------------------------------------------------


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_work_pool(work_pool: WorkPoolCreate, db: DatabaseDep) -> WorkPool:
    async with db.transaction() as connection:
        return await pools.create_work_pool(connection, work_pool)


@router.get("/{name}")
async def read_work_pool(db: DatabaseDep, name: str = Path()) -> WorkPool:
    async with db.read() as connection:
        return await pools.read_work_pool_by_name(connection, name)


@router.post("/filter")
async def read_work_pools(
    db: DatabaseDep,
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[WorkPool]:
    async with db.read() as connection:
        where = pools.work_pool_criteria(work_pools)
        return await pools.read_work_pools(connection, where, limit, offset)


@router.post("/count")
async def count_work_pools(
    db: DatabaseDep, work_pools: WorkPoolFilter | None = Body(None, embed=True)
) -> int:
    async with db.read() as connection:
        return await pools.count_work_pools(
            connection, pools.work_pool_criteria(work_pools)
        )


@router.patch("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def update_work_pool(
    work_pool: WorkPoolUpdate, db: DatabaseDep, name: str = Path()
) -> None:
    async with db.transaction() as connection:
        await pools.update_work_pool(connection, name, work_pool)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_work_pool(db: DatabaseDep, name: str = Path()) -> None:
    async with db.transaction() as connection:
        await pools.delete_work_pool(connection, name)


@router.post("/{name}/concurrency_status")
async def read_work_pool_concurrency_status(
    db: DatabaseDep,
    name: str = Path(),
    page: int = Body(1, ge=1),
    limit: int = LimitBody(),
    flow_run_limit: int = Body(
        10, ge=0, le=MAX_LIMIT, description="Max flow runs per queue."
    ),
) -> WorkPoolConcurrencyStatus:
    async with db.read() as connection:
        return await pools.read_work_pool_concurrency_status(
            connection, name, _now(), page, limit, flow_run_limit
        )


@router.post(
    "/{name}/get_scheduled_flow_runs", response_model=list[WorkerFlowRunResponse]
)
async def get_scheduled_flow_runs(
    db: DatabaseDep,
    name: str = Path(),
    work_queue_names: list[str] | None = Body(None),
    scheduled_before: dt.datetime | None = Body(None),
    scheduled_after: dt.datetime | None = Body(None),
    limit: int = LimitBody(),
) -> Response:
    """Return the SCHEDULED runs a worker should start next and record the poll."""
    async with db.read() as connection:
        chosen, polled = await workers.get_scheduled_flow_runs(
            connection, name, work_queue_names, scheduled_before, scheduled_after, limit
        )
        ids = [choice.flow_run_id for choice in chosen]
        documents = await workers.read_flow_run_documents_in_order(connection, ids)
        body = [
            {
                "work_pool_id": choice.work_pool_id,
                "work_queue_id": choice.work_queue_id,
                "flow_run": document,
            }
            for choice, document in zip(chosen, documents, strict=True)
        ]

        async def through_models() -> bytes:
            runs = await workers.read_flow_runs_in_order(connection, ids)
            return _POLL_RESPONSE.dump_json(
                [
                    WorkerFlowRunResponse(
                        work_pool_id=choice.work_pool_id,
                        work_queue_id=choice.work_queue_id,
                        flow_run=run,
                    )
                    for choice, run in zip(chosen, runs, strict=True)
                ]
            )

        content = await dump_or_fall_back(body, through_models)
    async with db.transaction() as connection:
        await workers.record_worker_poll(connection, polled, _now())
    return Response(content, media_type="application/json")


# --- Work queues of a pool ----------------------------------------------------


@router.post("/{work_pool_name}/queues", status_code=status.HTTP_201_CREATED)
async def create_work_queue(
    work_queue: WorkQueueCreate, db: DatabaseDep, work_pool_name: str = Path()
) -> WorkQueue:
    async with db.transaction() as connection:
        return await queues.create_work_queue(connection, work_pool_name, work_queue)


@router.get("/{work_pool_name}/queues/{name}")
async def read_work_queue(
    db: DatabaseDep, work_pool_name: str = Path(), name: str = Path()
) -> WorkQueue:
    async with db.read() as connection:
        return await queues.read_work_queue_by_name(connection, work_pool_name, name)


@router.post("/{work_pool_name}/queues/filter")
async def read_work_queues(
    db: DatabaseDep,
    work_pool_name: str = Path(),
    work_queues: WorkQueueFilter | None = Body(None, embed=True),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[WorkQueue]:
    async with db.read() as connection:
        pool = await pools.read_work_pool_by_name(connection, work_pool_name)
        where = queues.work_queue_criteria(work_queues)
        return await queues.read_work_queues(connection, where, limit, offset, pool.id)


@router.patch("/{work_pool_name}/queues/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def update_work_queue(
    work_queue: WorkQueueUpdate,
    db: DatabaseDep,
    work_pool_name: str = Path(),
    name: str = Path(),
) -> None:
    async with db.transaction() as connection:
        queue = await queues.read_work_queue_by_name(connection, work_pool_name, name)
        await queues.update_work_queue(connection, queue.id, work_queue)


@router.delete(
    "/{work_pool_name}/queues/{name}", status_code=status.HTTP_204_NO_CONTENT
)
async def delete_work_queue(
    db: DatabaseDep, work_pool_name: str = Path(), name: str = Path()
) -> None:
    async with db.transaction() as connection:
        queue = await queues.read_work_queue_by_name(connection, work_pool_name, name)
        await queues.delete_work_queue(connection, queue.id)


# --- Workers ------------------------------------------------------------------


@router.post(
    "/{work_pool_name}/workers/heartbeat", status_code=status.HTTP_204_NO_CONTENT
)
async def worker_heartbeat(
    db: DatabaseDep,
    work_pool_name: str = Path(),
    name: str = Body(..., embed=True, description="The worker process name."),
    heartbeat_interval_seconds: int | None = Body(None, embed=True),
) -> None:
    async with db.transaction() as connection:
        await workers.record_heartbeat(
            connection, work_pool_name, name, heartbeat_interval_seconds, _now()
        )


@router.post("/{work_pool_name}/workers/filter")
async def read_workers(
    db: DatabaseDep,
    work_pool_name: str = Path(),
    workers_filter: WorkerFilter | None = Body(None, alias="workers", embed=True),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[Worker]:
    async with db.read() as connection:
        where = workers.worker_criteria(workers_filter) if workers_filter else sa.true()
        return await workers.read_workers(
            connection, work_pool_name, where, limit, offset
        )


@router.delete(
    "/{work_pool_name}/workers/{name}", status_code=status.HTTP_204_NO_CONTENT
)
async def delete_worker(
    db: DatabaseDep, work_pool_name: str = Path(), name: str = Path()
) -> None:
    async with db.transaction() as connection:
        await workers.delete_worker(connection, work_pool_name, name)
