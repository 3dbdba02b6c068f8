"""Routes for `/task_runs`."""

from __future__ import annotations

import datetime as dt
import math
from uuid import UUID

from fastapi import APIRouter, Body, Response, status
from pydantic import TypeAdapter

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.api.routes.flow_runs import as_utc, json_list, state_response
from podium.schemas.deployments import DeploymentFilter
from podium.schemas.flow_runs import FlowRunFilter, HistoryResponse
from podium.schemas.flows import FlowFilter
from podium.schemas.pagination import Page
from podium.schemas.states import OrchestrationResult, StateCreate
from podium.schemas.task_runs import (
    TaskRun,
    TaskRunCreate,
    TaskRunFilter,
    TaskRunSort,
    TaskRunUpdate,
)
from podium.storage import run_history
from podium.storage import task_runs as storage
from podium.storage.run_criteria import task_runs_where
from podium.storage.tables import task_runs as task_runs_table

router = APIRouter(prefix="/task_runs", tags=["Task Runs"])

_TASK_RUN_LIST = TypeAdapter(list[TaskRun])


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_task_run(
    task_run: TaskRunCreate, response: Response, db: DatabaseDep
) -> TaskRun:
    """Create a task run, or return the run with the same flow run, task key
    and dynamic key (200)."""
    async with db.transaction() as connection:
        result, created = await storage.create_task_run(connection, task_run)
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/count")
async def count_task_runs(
    db: DatabaseDep,
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
) -> int:
    where = task_runs_where(task_runs, flow_runs, flows, deployments)
    async with db.read() as connection:
        return await storage.count_task_runs(connection, where)


@router.post("/filter", response_model=list[TaskRun])
async def read_task_runs(
    db: DatabaseDep,
    sort: TaskRunSort | None = Body(TaskRunSort.ID_DESC),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
) -> Response:
    where = task_runs_where(task_runs, flow_runs, flows, deployments)
    async with db.read() as connection:
        runs = await storage.read_task_runs(
            connection, where, sort or TaskRunSort.ID_DESC, limit, offset
        )
    return json_list(_TASK_RUN_LIST, runs)


@router.post("/paginate")
async def paginate_task_runs(
    db: DatabaseDep,
    sort: TaskRunSort | None = Body(TaskRunSort.ID_DESC),
    limit: int = LimitBody(),
    page: int = Body(1, ge=1),
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
) -> Page[TaskRun]:
    where = task_runs_where(task_runs, flow_runs, flows, deployments)
    async with db.read() as connection:
        count = await storage.count_task_runs(connection, where)
        runs = await storage.read_task_runs(
            connection, where, sort or TaskRunSort.ID_DESC, limit, (page - 1) * limit
        )
    pages = math.ceil(count / limit) if limit else 0
    return Page[TaskRun](results=runs, count=count, limit=limit, pages=pages, page=page)


@router.post("/history")
async def task_run_history(
    db: DatabaseDep,
    history_start: dt.datetime = Body(...),
    history_end: dt.datetime = Body(...),
    history_interval_seconds: float = Body(...),
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
) -> list[HistoryResponse]:
    where = task_runs_where(task_runs, flow_runs, flows, deployments)
    async with db.read() as connection:
        return await run_history.read_run_history(
            connection,
            task_runs_table,
            where,
            as_utc(history_start),
            as_utc(history_end),
            dt.timedelta(seconds=history_interval_seconds),
        )


@router.get("/{id}")
async def read_task_run(id: UUID, db: DatabaseDep) -> TaskRun:  # noqa: A002 - contract name
    async with db.read() as connection:
        return await storage.read_task_run(connection, id)


@router.patch("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def update_task_run(id: UUID, task_run: TaskRunUpdate, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.update_task_run(connection, id, task_run)


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task_run(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.delete_task_run(connection, id)


@router.post(
    "/{id}/set_state",
    status_code=status.HTTP_201_CREATED,
    response_model=OrchestrationResult,
)
async def set_task_run_state(
    id: UUID,  # noqa: A002
    db: DatabaseDep,
    state: StateCreate = Body(...),
    force: bool = Body(False),
) -> Response:
    """Propose a new state; 201 when it (or a substitute) was stored, else 200."""
    async with db.transaction() as connection:
        result, written = await storage.set_task_run_state(connection, id, state, force)
    return state_response(result, written)
