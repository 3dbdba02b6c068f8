"""Routes for `/deployments`."""

from __future__ import annotations

import datetime as dt
import math
from uuid import UUID

from fastapi import APIRouter, Body, Path, Response, status

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody, SettingsDep
from podium.errors import InvalidRequest, PodiumError
from podium.schemas.deployments import (
    Deployment,
    DeploymentBulkDeleteResponse,
    DeploymentCreate,
    DeploymentFilter,
    DeploymentFlowRunCreate,
    DeploymentSort,
    DeploymentUpdate,
)
from podium.schemas.flow_runs import FlowRun, FlowRunFilter
from podium.schemas.flows import FlowFilter
from podium.schemas.pagination import Page
from podium.schemas.schedules import (
    DeploymentSchedule,
    DeploymentScheduleCreate,
    DeploymentScheduleUpdate,
)
from podium.schemas.task_runs import TaskRunFilter
from podium.schemas.work_pools import WorkPoolFilter
from podium.schemas.work_queues import WorkQueue, WorkQueueFilter
from podium.storage import deployment_schedules as schedule_storage
from podium.storage import deployments as storage
from podium.storage.tables.base import utcnow
from podium.storage.work_queues import read_work_queue

router = APIRouter(prefix="/deployments", tags=["Deployments"])

# The maximum number of deployments one bulk delete removes, and of runs one
# bulk create makes, as in the Prefect API.
BULK_DELETE_LIMIT = 50
BULK_CREATE_LIMIT = 100


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_deployment(
    deployment: DeploymentCreate, response: Response, db: DatabaseDep
) -> Deployment:
    """Create a deployment, or update the one with the same flow and name (200)."""
    async with db.transaction() as connection:
        result, created = await storage.create_deployment(
            connection, deployment, utcnow()
        )
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/count")
async def count_deployments(
    db: DatabaseDep,
    deployments: DeploymentFilter | None = Body(None, embed=True),
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
    work_pool_queues: WorkQueueFilter | None = Body(None, embed=True),
) -> int:
    where = storage.deployments_where(
        deployments, flows, flow_runs, task_runs, work_pools, work_pool_queues
    )
    async with db.read() as connection:
        return await storage.count_deployments(connection, where)


@router.post("/filter")
async def read_deployments(
    db: DatabaseDep,
    deployments: DeploymentFilter | None = Body(None, embed=True),
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
    work_pool_queues: WorkQueueFilter | None = Body(None, embed=True),
    sort: DeploymentSort | None = Body(DeploymentSort.NAME_ASC),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[Deployment]:
    where = storage.deployments_where(
        deployments, flows, flow_runs, task_runs, work_pools, work_pool_queues
    )
    async with db.read() as connection:
        return await storage.read_deployments(
            connection, where, sort or DeploymentSort.NAME_ASC, limit, offset
        )


@router.post("/paginate")
async def paginate_deployments(
    db: DatabaseDep,
    deployments: DeploymentFilter | None = Body(None, embed=True),
    flows: FlowFilter | None = Body(None, embed=True),
    flow_runs: FlowRunFilter | None = Body(None, embed=True),
    task_runs: TaskRunFilter | None = Body(None, embed=True),
    work_pools: WorkPoolFilter | None = Body(None, embed=True),
    work_pool_queues: WorkQueueFilter | None = Body(None, embed=True),
    sort: DeploymentSort | None = Body(DeploymentSort.NAME_ASC),
    limit: int = LimitBody(),
    page: int = Body(1, ge=1),
) -> Page[Deployment]:
    where = storage.deployments_where(
        deployments, flows, flow_runs, task_runs, work_pools, work_pool_queues
    )
    async with db.read() as connection:
        count = await storage.count_deployments(connection, where)
        results = await storage.read_deployments(
            connection,
            where,
            sort or DeploymentSort.NAME_ASC,
            limit,
            (page - 1) * limit,
        )
    pages = math.ceil(count / limit) if limit else 0
    return Page[Deployment](
        results=results, count=count, limit=limit, pages=pages, page=page
    )


@router.post("/get_scheduled_flow_runs")
async def get_scheduled_flow_runs_for_deployments(
    db: DatabaseDep,
    deployment_ids: list[UUID] = Body(...),
    scheduled_before: dt.datetime | None = Body(None),
    limit: int = LimitBody(),
) -> list[FlowRun]:
    """Return the deployments' due SCHEDULED runs; a runner polls this."""
    async with db.transaction() as connection:
        return await storage.read_scheduled_flow_runs(
            connection, deployment_ids, scheduled_before, limit, utcnow()
        )


@router.post("/bulk_delete")
async def bulk_delete_deployments(
    db: DatabaseDep,
    deployments: DeploymentFilter | None = Body(None, embed=True),
    limit: int = Body(BULK_DELETE_LIMIT, ge=1, le=BULK_DELETE_LIMIT),
) -> DeploymentBulkDeleteResponse:
    where = storage.deployments_where(deployments)
    async with db.transaction() as connection:
        deleted = await storage.delete_deployments(connection, where, limit)
    return DeploymentBulkDeleteResponse(deleted=deleted)


@router.get("/name/{flow_name}/{deployment_name}")
async def read_deployment_by_name(
    db: DatabaseDep, flow_name: str = Path(), deployment_name: str = Path()
) -> Deployment:
    async with db.read() as connection:
        return await storage.read_deployment_by_name(
            connection, flow_name, deployment_name
        )


@router.get("/{id:uuid}")
async def read_deployment(id: UUID, db: DatabaseDep) -> Deployment:  # noqa: A002
    async with db.read() as connection:
        return await storage.read_deployment(connection, id)


@router.patch("/{id:uuid}", status_code=status.HTTP_204_NO_CONTENT)
async def update_deployment(
    id: UUID,  # noqa: A002 - contract name
    deployment: DeploymentUpdate,
    db: DatabaseDep,
) -> None:
    async with db.transaction() as connection:
        await storage.update_deployment(connection, id, deployment, utcnow())


@router.delete("/{id:uuid}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_deployment(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.delete_deployment(connection, id)


@router.post("/{id:uuid}/create_flow_run", status_code=status.HTTP_201_CREATED)
async def create_flow_run_from_deployment(
    id: UUID,  # noqa: A002
    flow_run: DeploymentFlowRunCreate,
    response: Response,
    db: DatabaseDep,
) -> FlowRun:
    """Create a flow run; 200 when the idempotency key names an existing run."""
    async with db.transaction() as connection:
        result, created = await storage.create_flow_run(
            connection, id, flow_run, utcnow()
        )
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/{id:uuid}/create_flow_run/bulk")
async def bulk_create_flow_runs_from_deployment(
    id: UUID,  # noqa: A002
    db: DatabaseDep,
    flow_runs: list[DeploymentFlowRunCreate] = Body(...),
) -> dict[str, list[dict[str, object]]]:
    """Create up to 100 runs; a run that fails a check is reported, not raised."""
    if len(flow_runs) > BULK_CREATE_LIMIT:
        raise InvalidRequest(
            f"Cannot create more than {BULK_CREATE_LIMIT} flow runs at once; "
            f"{len(flow_runs)} were sent."
        )
    results: list[dict[str, object]] = []
    async with db.transaction() as connection:
        await storage.read_deployment(connection, id)
        for request in flow_runs:
            try:
                run, _ = await storage.create_flow_run(
                    connection, id, request, utcnow()
                )
            except PodiumError as error:
                results.append(
                    {"status": "FAILED", "flow_run_id": None, "error": error.detail}
                )
            else:
                results.append(
                    {"status": "CREATED", "flow_run_id": run.id, "error": None}
                )
    return {"results": results}


@router.post("/{id:uuid}/pause_deployment")
async def pause_deployment(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    """Pause a deployment and delete its unstarted auto-scheduled runs."""
    async with db.transaction() as connection:
        await storage.set_paused(connection, id, True, utcnow())


@router.post("/{id:uuid}/resume_deployment")
async def resume_deployment(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.set_paused(connection, id, False, utcnow())


@router.post("/{id:uuid}/schedule")
async def schedule_deployment(
    id: UUID,  # noqa: A002
    db: DatabaseDep,
    settings: SettingsDep,
    start_time: dt.datetime | None = Body(None),
    end_time: dt.datetime | None = Body(None),
    min_time: float | None = Body(None, json_schema_extra={"format": "time-delta"}),
    min_runs: int | None = Body(None),
    max_runs: int | None = Body(None),
) -> None:
    """Create runs for a window of the deployment's schedules, such as a backfill."""
    async with db.transaction() as connection:
        await storage.schedule_runs(
            connection,
            id,
            utcnow(),
            start_time,
            end_time,
            dt.timedelta(seconds=min_time) if min_time is not None else None,
            settings.scheduler_min_runs if min_runs is None else min_runs,
            settings.scheduler_max_runs if max_runs is None else max_runs,
        )


@router.get("/{id:uuid}/work_queue_check")
async def work_queue_check_for_deployment(
    id: UUID,
    db: DatabaseDep,  # noqa: A002
) -> list[WorkQueue]:
    """Return the work queue that will receive the deployment's runs, if any."""
    async with db.read() as connection:
        deployment = await storage.read_deployment(connection, id)
        if deployment.work_queue_id is None:
            return []
        return [await read_work_queue(connection, deployment.work_queue_id)]


@router.get("/{id:uuid}/schedules")
async def read_deployment_schedules(
    id: UUID,
    db: DatabaseDep,  # noqa: A002
) -> list[DeploymentSchedule]:
    async with db.read() as connection:
        deployment = await storage.read_deployment(connection, id)
    return deployment.schedules


@router.post("/{id:uuid}/schedules", status_code=status.HTTP_201_CREATED)
async def create_deployment_schedules(
    id: UUID,  # noqa: A002
    db: DatabaseDep,
    schedules: list[DeploymentScheduleCreate] = Body(...),
) -> list[DeploymentSchedule]:
    async with db.transaction() as connection:
        await storage.change_schedules(connection, id, utcnow())
        return await schedule_storage.create_schedules(connection, id, schedules)


@router.patch(
    "/{id:uuid}/schedules/{schedule_id:uuid}", status_code=status.HTTP_204_NO_CONTENT
)
async def update_deployment_schedule(
    id: UUID,  # noqa: A002
    schedule_id: UUID,
    schedule: DeploymentScheduleUpdate,
    db: DatabaseDep,
) -> None:
    """Change a schedule; its deployment's future auto-scheduled runs are replaced."""
    async with db.transaction() as connection:
        await storage.change_schedules(connection, id, utcnow())
        await schedule_storage.update_schedule(
            connection, id, schedule, schedule_id=schedule_id
        )


@router.delete(
    "/{id:uuid}/schedules/{schedule_id:uuid}", status_code=status.HTTP_204_NO_CONTENT
)
async def delete_deployment_schedule(
    id: UUID,  # noqa: A002
    schedule_id: UUID,
    db: DatabaseDep,
) -> None:
    async with db.transaction() as connection:
        await storage.change_schedules(connection, id, utcnow())
        await schedule_storage.delete_schedule(connection, id, schedule_id)
