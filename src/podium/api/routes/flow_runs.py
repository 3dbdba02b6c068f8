"""Routes for `/flow_runs`."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Body, Response, status
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.api.dependencies import MAX_LIMIT, DatabaseDep, LimitBody, OffsetBody
from podium.schemas.base import Labels
from podium.schemas.deployments import DeploymentFilter
from podium.schemas.flow_runs import (
    FlowRun,
    FlowRunBulkDeleteResponse,
    FlowRunCreate,
    FlowRunFilter,
    FlowRunSort,
    FlowRunUpdate,
    HistoryResponse,
)
from podium.schemas.flows import FlowFilter
from podium.schemas.pagination import Page
from podium.schemas.states import (
    FlowRunOrchestrationResult,
    OrchestrationResult,
    StateCreate,
)
from podium.schemas.task_runs import TaskRunFilter
from podium.schemas.work_pools import WorkPoolFilter
from podium.schemas.work_queues import WorkQueueFilter
from podium.storage import flow_runs as storage
from podium.storage import run_graph, run_history
from podium.storage.filtering import Clause
from podium.storage.run_criteria import flow_runs_where
from podium.storage.tables import flow_runs as flow_runs_table

router = APIRouter(prefix="/flow_runs", tags=["Flow Runs"])

_FLOW_RUN_LIST = TypeAdapter(list[FlowRun])


def json_list(adapter: TypeAdapter[Any], items: Any) -> Response:
    """Serialize a list of models in one pass, skipping FastAPI's re-validation."""
    return Response(adapter.dump_json(items), media_type="application/json")


async def dump_or_fall_back(
    value: Any, fallback: Callable[[], Awaitable[bytes]]
) -> bytes:
    """Serialise JSON-ready `value` with orjson, or return what `fallback` makes.

    orjson rejects integers past 64 bits and nesting past 254 levels, which
    a run's parameters may contain. `fallback` then serialises through the
    models instead.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_UTC_Z)
    except orjson.JSONEncodeError:
        return await fallback()


def state_response(result: OrchestrationResult, written: bool) -> Response:
    """Return a set_state response: 201 when a state was stored, else 200."""
    code = status.HTTP_201_CREATED if written else status.HTTP_200_OK
    return Response(result.model_dump_json(), code, media_type="application/json")


@router.post("/", status_code=status.HTTP_201_CREATED, response_model=FlowRun)
async def create_flow_run(flow_run: FlowRunCreate, db: DatabaseDep) -> Response:
    """Create a flow run, or return the run with the same idempotency key (200)."""
    async with db.transaction() as connection:
        result, created = await storage.create_flow_run(connection, flow_run)
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(result.model_dump_json(), code, media_type="application/json")


# Defined second: FastAPI tries routes in order, and running flows call this
# one more than any other.
@router.post(
    "/{id}/set_state",
    status_code=status.HTTP_201_CREATED,
    response_model=OrchestrationResult,
)
async def set_flow_run_state(
    id: UUID,  # noqa: A002
    db: DatabaseDep,
    state: StateCreate = Body(...),
    force: bool = Body(False),
) -> Response:
    """Propose a new state; 201 when it (or a substitute) was stored, else 200."""
    async with db.transaction() as connection:
        result, written = await storage.set_flow_run_state(connection, id, state, force)
    return state_response(result, written)


@router.post("/count")
async def count_flow_runs(
    db: DatabaseDep,
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
    work_pool_queues: WorkQueueFilter | None = Body(None, embed=True),
) -> int:
    where = flow_runs_where(
        flow_runs, flows, task_runs, deployments, work_pools, work_pool_queues
    )
    async with db.read() as connection:
        return await storage.count_flow_runs(connection, where)


@router.post("/filter", response_model=list[FlowRun])
async def read_flow_runs(
    db: DatabaseDep,
    sort: FlowRunSort | None = Body(FlowRunSort.ID_DESC),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
    work_pool_queues: WorkQueueFilter | None = Body(None, embed=True),
) -> Response:
    where = flow_runs_where(
        flow_runs, flows, task_runs, deployments, work_pools, work_pool_queues
    )
    async with db.read() as connection:
        body = await _flow_runs_json(
            connection, where, sort or FlowRunSort.ID_DESC, limit, offset
        )
    return Response(body, media_type="application/json")


async def _flow_runs_json(
    connection: AsyncConnection,
    where: Clause,
    sort: FlowRunSort,
    limit: int,
    offset: int,
) -> bytes:
    """Read a page of flow runs and return it as a JSON array."""
    documents = await storage.read_flow_run_documents(
        connection, where, sort, limit, offset
    )

    async def through_models() -> bytes:
        runs = await storage.read_flow_runs(connection, where, sort, limit, offset)
        return _FLOW_RUN_LIST.dump_json(runs)

    return await dump_or_fall_back(documents, through_models)


@router.post("/paginate", response_model=Page[FlowRun])
async def paginate_flow_runs(
    db: DatabaseDep,
    sort: FlowRunSort | None = Body(FlowRunSort.ID_DESC),
    limit: int = LimitBody(),
    page: int = Body(1, ge=1),
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
    work_pool_queues: WorkQueueFilter | None = Body(None, embed=True),
) -> Response:
    where = flow_runs_where(
        flow_runs, flows, task_runs, deployments, work_pools, work_pool_queues
    )
    async with db.read() as connection:
        count = await storage.count_flow_runs(connection, where)
        results = await _flow_runs_json(
            connection, where, sort or FlowRunSort.ID_DESC, limit, (page - 1) * limit
        )
    body = {
        "results": orjson.Fragment(results),
        "count": count,
        "limit": limit,
        "pages": math.ceil(count / limit) if limit else 0,
        "page": page,
    }
    return Response(orjson.dumps(body), media_type="application/json")


@router.post("/history")
async def flow_run_history(
    db: DatabaseDep,
    history_start: dt.datetime = Body(...),
    history_end: dt.datetime = Body(...),
    history_interval_seconds: float = Body(...),
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
    work_queues: WorkQueueFilter | None = Body(None, embed=True),
) -> list[HistoryResponse]:
    where = flow_runs_where(
        flow_runs, flows, task_runs, deployments, work_pools, work_queues
    )
    async with db.read() as connection:
        return await run_history.read_run_history(
            connection,
            flow_runs_table,
            where,
            as_utc(history_start),
            as_utc(history_end),
            dt.timedelta(seconds=history_interval_seconds),
        )


def as_utc(value: dt.datetime) -> dt.datetime:
    """Read a naive datetime from a request as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@router.post("/bulk_delete")
async def bulk_delete_flow_runs(
    db: DatabaseDep,
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    limit: int = Body(50, ge=0, le=MAX_LIMIT),
) -> FlowRunBulkDeleteResponse:
    async with db.transaction() as connection:
        deleted = await storage.delete_flow_runs(
            connection, flow_runs_where(flow_runs), limit
        )
    return FlowRunBulkDeleteResponse(deleted=deleted)


@router.post("/bulk_set_state")
async def bulk_set_flow_run_state(
    db: DatabaseDep,
    state: StateCreate = Body(...),
    force: bool = Body(False),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    limit: int = Body(50, ge=0, le=MAX_LIMIT),
) -> dict[str, list[FlowRunOrchestrationResult]]:
    results = []
    async with db.transaction() as connection:
        runs = await storage.read_flow_runs(
            connection, flow_runs_where(flow_runs), limit=limit
        )
        for run in runs:
            result, _ = await storage.set_flow_run_state(
                connection, run.id, state, force
            )
            results.append(
                FlowRunOrchestrationResult(**result.model_dump(), flow_run_id=run.id)
            )
    return {"results": results}


@router.get("/{id}")
async def read_flow_run(id: UUID, db: DatabaseDep) -> FlowRun:  # noqa: A002 - contract name
    async with db.read() as connection:
        return await storage.read_flow_run(connection, id)


@router.patch("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def update_flow_run(id: UUID, flow_run: FlowRunUpdate, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.update_flow_run(connection, id, flow_run)


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_flow_run(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.delete_flow_run(connection, id)


@router.patch("/{id}/labels", status_code=status.HTTP_204_NO_CONTENT)
async def update_flow_run_labels(
    id: UUID,
    db: DatabaseDep,
    labels: Labels = Body(...),  # noqa: A002
) -> None:
    async with db.transaction() as connection:
        await storage.update_flow_run_labels(connection, id, labels)


@router.post(
    "/{id}/resume",
    status_code=status.HTTP_201_CREATED,
    response_model=OrchestrationResult,
)
async def resume_flow_run(
    id: UUID,  # noqa: A002
    db: DatabaseDep,
    run_input: dict[str, Any] | None = Body(None, embed=True),
) -> Response:
    """Move a PAUSED flow run back to running (or to a Resuming schedule)."""
    async with db.transaction() as connection:
        result, written = await storage.resume_flow_run(connection, id, run_input)
    return state_response(result, written)


# Without `since`, the graph includes every node of the run.
GRAPH_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


@router.get("/{id}/graph-v2")
async def read_flow_run_graph_v2(
    id: UUID,  # noqa: A002
    db: DatabaseDep,
    since: dt.datetime = GRAPH_EPOCH,
) -> dict[str, Any]:
    async with db.read() as connection:
        return await run_graph.read_flow_run_graph(connection, id, as_utc(since))
