"""Routes for `/flows`."""

from __future__ import annotations

import math
from uuid import UUID

from fastapi import APIRouter, Body, Path, Response, status

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.schemas.deployments import DeploymentFilter
from podium.schemas.flow_runs import FlowRunFilter
from podium.schemas.flows import (
    Flow,
    FlowBulkDeleteResponse,
    FlowCreate,
    FlowFilter,
    FlowSort,
    FlowUpdate,
)
from podium.schemas.pagination import Page
from podium.schemas.task_runs import TaskRunFilter
from podium.schemas.work_pools import WorkPoolFilter
from podium.storage import flows as storage
from podium.storage.run_criteria import flows_related_where
from podium.storage.tables import flows as flows_table

router = APIRouter(prefix="/flows", tags=["Flows"])


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_flow(flow: FlowCreate, response: Response, db: DatabaseDep) -> Flow:
    """Create a flow, or return the existing flow of that name with 200."""
    # Clients send this for every run of a flow that usually exists already,
    # so look it up first and take the write lock only to create it.
    async with db.read() as connection:
        existing = await storage.read_flow_by_name(
            connection, flow.name, missing_ok=True
        )
    if existing is not None:
        response.status_code = status.HTTP_200_OK
        return existing
    async with db.transaction() as connection:
        result, created = await storage.create_flow(connection, flow)
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/count")
async def count_flows(
    db: DatabaseDep,
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
) -> int:
    where = storage.flows_where(
        flows, runs=flows_related_where(flow_runs, task_runs, deployments, work_pools)
    )
    async with db.read() as connection:
        return await storage.count_flows(connection, where)


@router.post("/filter")
async def read_flows(
    db: DatabaseDep,
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
    sort: FlowSort | None = Body(FlowSort.NAME_ASC),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[Flow]:
    where = storage.flows_where(
        flows, runs=flows_related_where(flow_runs, task_runs, deployments, work_pools)
    )
    async with db.read() as connection:
        return await storage.read_flows(
            connection, where, sort or FlowSort.NAME_ASC, limit, offset
        )


@router.post("/paginate")
async def paginate_flows(
    db: DatabaseDep,
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
    sort: FlowSort | None = Body(FlowSort.NAME_ASC),
    limit: int = LimitBody(),
    page: int = Body(1, ge=1),
) -> Page[Flow]:
    where = storage.flows_where(
        flows, runs=flows_related_where(flow_runs, task_runs, deployments, work_pools)
    )
    async with db.read() as connection:
        count = await storage.count_flows(connection, where)
        results = await storage.read_flows(
            connection, where, sort or FlowSort.NAME_ASC, limit, (page - 1) * limit
        )
    pages = math.ceil(count / limit) if limit else 0
    return Page[Flow](results=results, count=count, limit=limit, pages=pages, page=page)


@router.get("/name/{name}")
async def read_flow_by_name(db: DatabaseDep, name: str = Path()) -> Flow:
    async with db.read() as connection:
        flow = await storage.read_flow_by_name(connection, name)
    assert flow is not None
    return flow


@router.get("/{id}")
async def read_flow(id: UUID, db: DatabaseDep) -> Flow:  # noqa: A002 - contract name
    async with db.read() as connection:
        return await storage.read_flow(connection, id)


@router.patch("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def update_flow(id: UUID, flow: FlowUpdate, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.update_flow(connection, id, flow)


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_flow(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.delete_flow(connection, id)


# The maximum number of flows one bulk delete removes, as in the Prefect API.
BULK_DELETE_LIMIT = 50


@router.post("/bulk_delete")
async def bulk_delete_flows(
    db: DatabaseDep,
    flows: FlowFilter | None = Body(None, embed=True),
    limit: int = Body(BULK_DELETE_LIMIT, ge=1, le=BULK_DELETE_LIMIT),
) -> FlowBulkDeleteResponse:
    """Delete up to `limit` matching flows, with their deployments and runs."""
    async with db.transaction() as connection:
        matching = await storage.read_flows(
            connection, storage.flows_where(flows), limit=limit
        )
        deleted = await storage.delete_flows(
            connection, flows_table.c.id.in_([flow.id for flow in matching])
        )
    return FlowBulkDeleteResponse(deleted=deleted)
