"""Routes under `/ui`: the counts, histories and lookups the Prefect dashboard shows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Body

from podium.api.dependencies import DatabaseDep
from podium.errors import InvalidRequest
from podium.schemas.deployments import DeploymentFilter
from podium.schemas.flow_runs import FlowRunFilter, FlowRunSort
from podium.schemas.flows import FlowFilter
from podium.schemas.hydration import hydrate
from podium.schemas.task_runs import TaskRunFilter
from podium.schemas.ui import (
    CountByState,
    SchemaValuesValidationResponse,
    SimpleFlowRun,
    SimpleNextFlowRun,
    TaskRunCount,
    UITaskRun,
)
from podium.schemas.work_pools import WorkPoolFilter
from podium.schemas.work_queues import WorkQueueFilter
from podium.storage import ui as storage
from podium.storage.run_criteria import flow_runs_where, task_runs_where
from podium.storage.tables.base import utcnow

flows_router = APIRouter(prefix="/ui/flows", tags=["Flows", "UI"])
flow_runs_router = APIRouter(prefix="/ui/flow_runs", tags=["Flow Runs", "UI"])
task_runs_router = APIRouter(prefix="/ui/task_runs", tags=["Task Runs", "UI"])
schemas_router = APIRouter(prefix="/ui/schemas", tags=["UI", "Schemas"])

# The maximum number of ids in one count or lookup request, as in the Prefect API.
MAX_IDS = 200
# The maximum number of points one history request returns, as in the Prefect API.
MAX_HISTORY_POINTS = 1000
# The dashboard's task run chart always has this many intervals.
DASHBOARD_INTERVALS = 20


@flows_router.post("/count-deployments")
async def count_deployments_by_flow(
    db: DatabaseDep,
    flow_ids: list[UUID] = Body(..., embed=True, max_length=MAX_IDS),
) -> dict[UUID, int]:
    async with db.read() as connection:
        return await storage.count_deployments_by_flow(connection, flow_ids)


@flows_router.post("/next-runs")
async def next_runs_by_flow(
    db: DatabaseDep,
    flow_ids: list[UUID] = Body(..., embed=True, max_length=MAX_IDS),
) -> dict[UUID, SimpleNextFlowRun | None]:
    """Return each flow's scheduled run that is due first (null for none)."""
    async with db.read() as connection:
        return await storage.read_next_runs_by_flow(connection, flow_ids)


@flow_runs_router.post("/history")
async def read_flow_run_history(
    db: DatabaseDep,
    sort: FlowRunSort = Body(FlowRunSort.EXPECTED_START_TIME_DESC),
    limit: int = Body(MAX_HISTORY_POINTS, ge=0, le=MAX_HISTORY_POINTS),
    offset: int = Body(0, ge=0),
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
) -> list[SimpleFlowRun]:
    where = flow_runs_where(flow_runs, flows, task_runs, deployments, work_pools)
    async with db.read() as connection:
        return await storage.read_flow_run_history(
            connection, where, sort, limit, offset, utcnow()
        )


@flow_runs_router.post("/count-task-runs")
async def count_task_runs_by_flow_run(
    db: DatabaseDep,
    flow_run_ids: list[UUID] = Body(..., embed=True, max_length=MAX_IDS),
) -> dict[UUID, int]:
    """Count each flow run's task runs, leaving out those that ran a subflow."""
    async with db.read() as connection:
        return await storage.count_task_runs_by_flow_run(connection, flow_run_ids)


@task_runs_router.post("/dashboard/counts")
async def read_dashboard_task_run_counts(
    db: DatabaseDep,
    task_runs: TaskRunFilter = Body(..., embed=True),
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
    work_queues: WorkQueueFilter | None = Body(None, embed=True),
) -> list[TaskRunCount]:
    """Count finished task runs in 20 equal intervals of the filter's start window."""
    window = task_runs.start_time
    if window is None or window.after_ is None:
        raise InvalidRequest(
            "Missing task_runs.start_time.after_: the dashboard counts need the "
            "start of their time window."
        )
    start, end = storage.dashboard_window(window.after_, window.before_, utcnow())
    where = storage.finished_task_runs_where(
        task_runs, flow_runs, flows, deployments, work_pools, work_queues
    )
    async with db.read() as connection:
        return await storage.read_dashboard_task_run_counts(
            connection, where, start, end, DASHBOARD_INTERVALS
        )


@task_runs_router.post("/count")
async def read_task_run_counts_by_state(
    db: DatabaseDep,
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    deployments: DeploymentFilter | None = Body(None, embed=True),
) -> CountByState:
    where = task_runs_where(task_runs, flow_runs, flows, deployments)
    async with db.read() as connection:
        return await storage.count_task_runs_by_state(connection, where)


@task_runs_router.get("/{id}")
async def read_task_run_with_flow_run_name(
    id: UUID,  # noqa: A002 - contract name
    db: DatabaseDep,
) -> UITaskRun:
    async with db.read() as connection:
        return await storage.read_ui_task_run(connection, id)


@schemas_router.post("/validate")
async def validate_obj(
    db: DatabaseDep,
    json_schema: dict[str, Any] = Body(..., embed=True, alias="schema"),
    values: dict[str, Any] = Body(..., embed=True),
) -> SchemaValuesValidationResponse:
    """Hydrate `values` with the workspace variables and validate them."""
    # Imported here because jsonschema costs about 3 MB that an idle server
    # need not hold.
    from podium.schemas.schema_values import (
        SchemaProblem,
        check_schema,
        prepare_schema,
        validate_values,
    )

    schema = prepare_schema(json_schema)
    try:
        check_schema(schema)
    except SchemaProblem as problem:
        raise InvalidRequest(str(problem)) from problem
    async with db.read() as connection:
        variables = await storage.read_variable_values(connection)
    try:
        result = validate_values(hydrate(values, variables), schema)
    except SchemaProblem as problem:
        raise InvalidRequest(str(problem)) from problem
    return SchemaValuesValidationResponse.model_validate(result)


ROUTERS = [flows_router, flow_runs_router, task_runs_router, schemas_router]
