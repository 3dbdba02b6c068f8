"""More routes under `/flow_runs`: average lateness and the first graph version."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Body

from podium.api.dependencies import DatabaseDep
from podium.schemas.deployments import DeploymentFilter
from podium.schemas.flow_runs import FlowRunFilter
from podium.schemas.flows import FlowFilter
from podium.schemas.task_runs import DependencyResult, TaskRunFilter
from podium.schemas.work_pools import WorkPoolFilter
from podium.schemas.work_queues import WorkQueueFilter
from podium.storage import run_graph, run_lateness
from podium.storage.run_criteria import flow_runs_where
from podium.storage.tables.base import utcnow

router = APIRouter(prefix="/flow_runs", tags=["Flow Runs"])


@router.post("/lateness")
async def average_flow_run_lateness(
    db: DatabaseDep,
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
    work_pool_queues: WorkQueueFilter | None = Body(None, embed=True),
) -> float | None:
    """Return the mean lateness in seconds of the matching flow runs."""
    where = flow_runs_where(
        flow_runs, flows, task_runs, deployments, work_pools, work_pool_queues
    )
    async with db.read() as connection:
        return await run_lateness.average_flow_run_lateness(connection, where, utcnow())


@router.get("/{id}/graph", tags=["Flow Run Graph"])
async def read_flow_run_graph_v1(
    id: UUID,  # noqa: A002 - contract name
    db: DatabaseDep,
) -> list[DependencyResult]:
    async with db.read() as connection:
        return await run_graph.read_task_run_dependencies(connection, id)
