"""Queries for deployments and the flow runs created from them.

Every write that changes what a deployment's scheduled runs would look like
(an upsert, an update, a pause, a schedule change) deletes the deployment's
future auto-scheduled runs in the same transaction. It also marks the
schedules due, so the scheduler refills them from the new definition within
one loop.
`podium.storage.deployment_schedules` describes the lock order that keeps
this safe beside a running scheduler.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import Conflict, InvalidRequest, ObjectNotFound, PodiumError
from podium.orchestration import hydration
from podium.orchestration.schedules import FillLimits, plan_fill
from podium.schemas.deployments import (
    Deployment,
    DeploymentCreate,
    DeploymentFlowRunCreate,
    DeploymentSort,
    DeploymentUpdate,
)
from podium.schemas.flow_runs import FlowRun, FlowRunCreate, FlowRunFilter, FlowRunSort
from podium.schemas.flows import FlowFilter
from podium.schemas.schedules import DeploymentScheduleCreate, DeploymentScheduleUpdate
from podium.schemas.states import StateCreate, StateDetails, StateType
from podium.schemas.task_runs import TaskRunFilter
from podium.schemas.work_pools import WorkPoolFilter
from podium.schemas.work_queues import WorkQueueFilter
from podium.storage import deployment_schedules as schedules
from podium.storage import dialect
from podium.storage import flow_runs as runs
from podium.storage.criteria import deployment_criteria, flow_criteria
from podium.storage.filtering import Clause
from podium.storage.run_criteria import flow_runs_where
from podium.storage.tables import (
    deployments,
    flow_runs,
    flows,
    variables,
    work_pools,
    work_queues,
)
from podium.storage.work_pools import work_pool_criteria
from podium.storage.work_queues import resolve_work_queue, work_queue_criteria

SORTS: dict[DeploymentSort, list[Any]] = {
    DeploymentSort.CREATED_DESC: [deployments.c.created.desc(), deployments.c.id],
    DeploymentSort.UPDATED_DESC: [deployments.c.updated.desc(), deployments.c.id],
    DeploymentSort.NAME_ASC: [deployments.c.name.asc(), deployments.c.id],
    DeploymentSort.NAME_DESC: [deployments.c.name.desc(), deployments.c.id],
}

# How far past its start a `schedule` request covers when it sends no
# `min_time`, and how far its window reaches without an `end_time`. Both are
# the Prefect 3.9.1 server's defaults.
DEFAULT_MIN_TIME = dt.timedelta(hours=1)
DEFAULT_WINDOW = dt.timedelta(days=100)

# Columns a DeploymentCreate or DeploymentUpdate writes as given.
_PLAIN_FIELDS = [
    "version",
    "description",
    "paused",
    "tags",
    "labels",
    "parameters",
    "parameter_openapi_schema",
    "enforce_parameter_schema",
    "job_variables",
    "pull_steps",
    "entrypoint",
    "path",
    "storage_document_id",
    "infrastructure_document_id",
    "work_queue_name",
    "concurrency_limit",
    "concurrency_options",
    "global_concurrency_limit_id",
    "version_info",
]

# Plain fields of UUID type. They are written as UUID objects, because the
# SQLite column type cannot bind the text that a JSON dump makes of them.
_ID_FIELDS = {
    "storage_document_id",
    "infrastructure_document_id",
    "global_concurrency_limit_id",
}


def _plain_values(
    model: DeploymentCreate | DeploymentUpdate, fields: set[str]
) -> dict[str, Any]:
    """Return the plain columns set in `model`, JSON-encoded except for ids."""
    values = model.model_dump(mode="json", include=set(_PLAIN_FIELDS) & fields)
    for name in _ID_FIELDS & values.keys():
        values[name] = getattr(model, name)
    return values


def deployment_not_found(deployment_id: UUID | None = None) -> ObjectNotFound:
    return ObjectNotFound("Deployment not found.")


def _select_deployments() -> sa.Select[Any]:
    source = deployments.outerjoin(
        work_queues, work_queues.c.id == deployments.c.work_queue_id
    ).outerjoin(work_pools, work_pools.c.id == work_queues.c.work_pool_id)
    return sa.select(
        deployments, work_pools.c.name.label("work_pool_name")
    ).select_from(source)


async def _to_deployments(
    connection: AsyncConnection, rows: Sequence[Any]
) -> list[Deployment]:
    by_deployment = await schedules.read_schedules(connection, [row.id for row in rows])
    result = []
    for row in rows:
        values = dict(row._mapping)
        values["schedules"] = by_deployment[row.id]
        result.append(Deployment.model_validate(values))
    return result


# Create ----------------------------------------------------------------------


async def _work_queue_values(
    connection: AsyncConnection, pool_name: str | None, queue_name: str | None
) -> dict[str, Any]:
    """Resolve a pool and queue name to the queue id a deployment stores."""
    if not pool_name:
        return {"work_queue_name": queue_name} if queue_name else {}
    queue = await resolve_work_queue(
        connection, pool_name, queue_name, create_missing=True
    )
    return {"work_queue_name": queue.name, "work_queue_id": queue.id}


async def _flow_labels(connection: AsyncConnection, flow_id: UUID) -> dict[str, Any]:
    row = (
        await connection.execute(sa.select(flows.c.labels).where(flows.c.id == flow_id))
    ).first()
    if row is None:
        raise ObjectNotFound(f"Flow {flow_id} not found.")
    return dict(row.labels or {})


async def create_deployment(
    connection: AsyncConnection, deployment: DeploymentCreate, now: dt.datetime
) -> tuple[Deployment, bool]:
    """Insert a deployment, or update the one with the same flow and name.

    An update replaces the schedules and removes the future auto-scheduled
    runs of the old definition. Returns the deployment and whether it was
    created.
    """
    labels = await _flow_labels(connection, deployment.flow_id)
    labels |= deployment.labels or {}
    labels["prefect.flow.id"] = str(deployment.flow_id)

    values = _plain_values(deployment, deployment.model_fields_set)
    values.update(labels=labels, updated=now)
    values |= await _work_queue_values(
        connection, deployment.work_pool_name, deployment.work_queue_name
    )
    insert = dialect.insert(connection, deployments).values(
        id=uuid.uuid4(),
        created=now,
        name=deployment.name,
        flow_id=deployment.flow_id,
        **values,
    )
    statement = insert.on_conflict_do_update(
        index_elements=[deployments.c.flow_id, deployments.c.name], set_=values
    ).returning(deployments.c.id, deployments.c.created)
    row = (await connection.execute(statement)).one()
    created = row.created == now

    if not created:
        await schedules.reset_scheduled_runs(connection, [row.id], now)
        await schedules.delete_schedules(connection, row.id)
    await schedules.create_schedules(connection, row.id, deployment.schedules)
    return await read_deployment(connection, row.id), created


# Read ------------------------------------------------------------------------


async def read_deployment(
    connection: AsyncConnection, deployment_id: UUID
) -> Deployment:
    query = _select_deployments().where(deployments.c.id == deployment_id)
    rows = (await connection.execute(query)).all()
    if not rows:
        raise deployment_not_found(deployment_id)
    return (await _to_deployments(connection, rows))[0]


async def read_deployment_by_name(
    connection: AsyncConnection, flow_name: str, deployment_name: str
) -> Deployment:
    query = (
        _select_deployments()
        .join(flows, flows.c.id == deployments.c.flow_id)
        .where(flows.c.name == flow_name, deployments.c.name == deployment_name)
    )
    rows = (await connection.execute(query)).all()
    if not rows:
        raise ObjectNotFound("Deployment not found.")
    return (await _to_deployments(connection, rows))[0]


async def read_deployments(
    connection: AsyncConnection,
    where: Clause,
    sort: DeploymentSort = DeploymentSort.NAME_ASC,
    limit: int | None = None,
    offset: int = 0,
) -> list[Deployment]:
    query = (
        _select_deployments()
        .where(where)
        .order_by(*SORTS[sort])
        .limit(limit)
        .offset(offset)
    )
    rows = (await connection.execute(query)).all()
    return await _to_deployments(connection, rows)


async def count_deployments(connection: AsyncConnection, where: Clause) -> int:
    query = sa.select(sa.func.count()).select_from(deployments).where(where)
    return int((await connection.execute(query)).scalar_one())


# Update ----------------------------------------------------------------------


async def _touch(
    connection: AsyncConnection, deployment_id: UUID, now: dt.datetime, **values: Any
) -> None:
    """Write the deployment row first, which also locks it (see module docs)."""
    result = await connection.execute(
        sa.update(deployments)
        .where(deployments.c.id == deployment_id)
        .values(updated=now, **values)
    )
    if result.rowcount == 0:
        raise deployment_not_found(deployment_id)


async def update_deployment(
    connection: AsyncConnection,
    deployment_id: UUID,
    update: DeploymentUpdate,
    now: dt.datetime,
) -> None:
    """Apply the fields set in `update`.

    `schedules`, when sent, replaces the schedule list (slugs matched when
    every schedule has one); an empty list clears every schedule.
    """
    fields = update.model_fields_set
    values = _plain_values(update, fields)
    if "work_pool_name" in fields:
        if update.work_pool_name is None:
            values["work_queue_id"] = None
        else:
            values |= await _work_queue_values(
                connection, update.work_pool_name, update.work_queue_name
            )
    current = await read_deployment(connection, deployment_id)
    if update.parameters is not None:
        update.parameters = await hydrated_parameters(
            connection, update.parameters, "deployment parameters"
        )
        values["parameters"] = update.parameters
    _check_parameters(current, update)
    await _touch(connection, deployment_id, now, **values)
    await schedules.reset_scheduled_runs(connection, [deployment_id], now)
    if update.schedules is not None:
        await _replace_schedules(connection, current, update.schedules)


def _check_parameters(current: Deployment, update: DeploymentUpdate) -> None:
    enforce = update.enforce_parameter_schema
    if enforce is None:
        enforce = current.enforce_parameter_schema
    if update.parameters is None or not enforce:
        return
    schema = update.parameter_openapi_schema or current.parameter_openapi_schema
    if not isinstance(schema, dict):
        raise Conflict(
            "Error updating deployment: the parameters cannot be checked because "
            "parameter schema enforcement is on and the deployment has no "
            "parameter schema."
        )
    problem = parameter_problem(update.parameters, schema, ignore_required=True)
    if problem:
        raise Conflict(f"Error updating deployment: {problem}")


async def _replace_schedules(
    connection: AsyncConnection,
    current: Deployment,
    wanted: list[DeploymentScheduleUpdate],
) -> None:
    existing_slugs = {s.slug for s in current.schedules}
    by_slug = bool(current.schedules) and None not in existing_slugs
    if by_slug and not all(s.slug for s in wanted):
        raise InvalidRequest(
            "Every schedule needs a slug, because the deployment's existing "
            "schedules are matched by slug."
        )
    if not by_slug:
        await schedules.delete_schedules(connection, current.id)
        await schedules.create_schedules(
            connection, current.id, [_as_create(s) for s in wanted if s.schedule]
        )
        return
    creates = []
    for item in wanted:
        target = item.replaces or item.slug
        if target in existing_slugs:
            await schedules.update_schedule(connection, current.id, item, slug=target)
        else:
            creates.append(_as_create(item))
    await schedules.create_schedules(connection, current.id, creates)


def _as_create(item: DeploymentScheduleUpdate) -> DeploymentScheduleCreate:
    if item.schedule is None:
        raise InvalidRequest("A new schedule needs a `schedule` definition.")
    return DeploymentScheduleCreate(
        schedule=item.schedule,
        active=True if item.active is None else item.active,
        max_scheduled_runs=item.max_scheduled_runs,
        parameters=item.parameters or {},
        slug=item.slug,
    )


async def set_paused(
    connection: AsyncConnection, deployment_id: UUID, paused: bool, now: dt.datetime
) -> None:
    """Pause or resume a deployment.

    Pausing deletes every unstarted auto-scheduled run at once; resuming
    makes the schedules due so the scheduler refills them.
    """
    await _touch(connection, deployment_id, now, paused=paused)
    await schedules.lock_schedules(connection, [deployment_id])
    if paused:
        await connection.execute(
            sa.delete(flow_runs).where(
                schedules.unstarted_scheduled_runs([deployment_id], True, None)
            )
        )
    await schedules.reset_scheduled_runs(connection, [deployment_id], now)


async def change_schedules(
    connection: AsyncConnection, deployment_id: UUID, now: dt.datetime
) -> None:
    """Prepare a deployment for a schedule change (call before making it)."""
    await _touch(connection, deployment_id, now)
    await schedules.reset_scheduled_runs(connection, [deployment_id], now)


# Delete ----------------------------------------------------------------------


async def delete_deployments(
    connection: AsyncConnection, where: Clause, limit: int | None = None
) -> list[UUID]:
    """Delete matching deployments with their schedules and unstarted scheduled runs."""
    query = (
        sa.select(deployments.c.id).where(where).order_by(deployments.c.id).limit(limit)
    )
    ids = list((await connection.execute(query.with_for_update())).scalars())
    if not ids:
        return []
    await schedules.lock_schedules(connection, ids)
    await connection.execute(
        sa.delete(flow_runs).where(schedules.unstarted_scheduled_runs(ids, False, None))
    )
    await connection.execute(sa.delete(deployments).where(deployments.c.id.in_(ids)))
    return ids


async def delete_deployment(connection: AsyncConnection, deployment_id: UUID) -> None:
    if not await delete_deployments(connection, deployments.c.id == deployment_id):
        raise deployment_not_found(deployment_id)


# Flow runs -------------------------------------------------------------------


def parameter_problem(
    parameters: dict[str, Any], schema: dict[str, Any], ignore_required: bool = False
) -> str | None:
    """Return why `parameters` break the deployment's JSON schema, or None."""
    # Imported on first use: an idle server need not hold jsonschema.
    import jsonschema
    import referencing.exceptions

    if ignore_required:
        schema = {key: value for key, value in schema.items() if key != "required"}
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        return f"The parameter schema is invalid: {error.message}"
    # An empty registry resolves only references inside the schema, so a
    # deployment's schema can never make Podium fetch a remote document.
    validator = jsonschema.Draft202012Validator(schema, registry=referencing.Registry())
    try:
        errors = sorted(validator.iter_errors(parameters), key=lambda e: list(e.path))
    except referencing.exceptions.Unresolvable as error:
        return f"The parameter schema has a reference that cannot be resolved: {error}"
    if not errors:
        return None
    first = errors[0]
    field = ".".join(str(p) for p in first.path) or "parameters"
    return f"Validation failed for field {field!r}. Failure reason: {first.message}"


async def hydrated_parameters(
    connection: AsyncConnection, parameters: dict[str, Any], what: str
) -> dict[str, Any]:
    """Resolve the UI's `__prefect_kind` placeholders, reading the variables they name.

    Raises a 400 error starting with `what` when a placeholder cannot be resolved.
    """
    names = hydration.variable_names(parameters)
    values: dict[str, Any] = {}
    if names:
        result = await connection.execute(
            sa.select(variables.c.name, variables.c.value).where(
                variables.c.name.in_(names)
            )
        )
        values = {row.name: row.value for row in result}
    try:
        return hydration.hydrate(parameters, values)
    except hydration.HydrationError as error:
        raise PodiumError(f"Error hydrating {what}: {error}") from None


def checked_parameters(
    deployment: Deployment,
    request: DeploymentFlowRunCreate,
    parameters: dict[str, Any],
) -> dict[str, Any]:
    """Check a run's merged parameters against the deployment's schema."""
    enforce = request.enforce_parameter_schema
    if enforce is None:
        enforce = deployment.enforce_parameter_schema
    if not enforce:
        return parameters
    if not isinstance(deployment.parameter_openapi_schema, dict):
        raise Conflict(
            "Error creating flow run: parameter schema enforcement is on but the "
            "deployment has no parameter schema."
        )
    problem = parameter_problem(parameters, deployment.parameter_openapi_schema)
    if problem:
        raise Conflict(f"Error creating flow run: {problem}")
    return parameters


async def create_flow_run(
    connection: AsyncConnection,
    deployment_id: UUID,
    request: DeploymentFlowRunCreate,
    now: dt.datetime,
    created_by: dict[str, Any] | None = None,
) -> tuple[FlowRun, bool]:
    """Create a flow run of a deployment; SCHEDULED for now unless a state is sent.

    Returns the run and whether it was created (an idempotency key may
    return an existing run).
    """
    deployment = await read_deployment(connection, deployment_id)
    parameters = await hydrated_parameters(
        connection,
        {**deployment.parameters, **request.parameters},
        "flow run parameters",
    )
    parameters = checked_parameters(deployment, request, parameters)
    queue_values = await _run_queue(connection, deployment, request.work_queue_name)
    state = request.state or StateCreate(
        type=StateType.SCHEDULED,
        state_details=StateDetails(scheduled_time=now),
    )
    create = FlowRunCreate(
        flow_id=deployment.flow_id,
        deployment_id=deployment.id,
        name=request.name,
        parameters=parameters,
        context=request.context,
        parent_task_run_id=request.parent_task_run_id,
        infrastructure_document_id=(
            request.infrastructure_document_id or deployment.infrastructure_document_id
        ),
        empirical_policy=request.empirical_policy,
        tags=list(dict.fromkeys([*deployment.tags, *request.tags])),
        labels={
            **deployment.labels,
            "prefect.deployment.id": str(deployment.id),
            **(request.labels or {}),
        },
        idempotency_key=request.idempotency_key,
        work_queue_name=queue_values.get("work_queue_name"),
        job_variables=request.job_variables,
        state=state,
    )
    flow_run, created = await runs.create_flow_run(connection, create, created_by)
    if created:
        await connection.execute(
            sa.update(flow_runs)
            .where(flow_runs.c.id == flow_run.id)
            .values(deployment_version=deployment.version, **queue_values)
        )
        flow_run = await runs.read_flow_run(connection, flow_run.id)
    return flow_run, created


async def _run_queue(
    connection: AsyncConnection, deployment: Deployment, queue_name: str | None
) -> dict[str, Any]:
    if not queue_name or queue_name == deployment.work_queue_name:
        return {
            "work_queue_name": deployment.work_queue_name,
            "work_queue_id": deployment.work_queue_id,
        }
    if deployment.work_pool_name is None:
        raise InvalidRequest(
            f"Cannot create a flow run in work queue {queue_name!r}: deployment "
            f"{deployment.id} has no work pool. Leave work_queue_name out."
        )
    return await _work_queue_values(connection, deployment.work_pool_name, queue_name)


async def schedule_runs(
    connection: AsyncConnection,
    deployment_id: UUID,
    now: dt.datetime,
    start_time: dt.datetime | None,
    end_time: dt.datetime | None,
    min_time: dt.timedelta | None,
    min_runs: int,
    max_runs: int,
) -> int:
    """Create the auto-scheduled runs of a deployment's active schedules in a window.

    Runs start at `start_time`, stop at `end_time` or `max_runs`, and continue
    until both `min_runs` runs exist and `min_time` past the start is
    covered, as the Prefect API's `schedule` endpoint does. For backfills `start_time` may lie in the past. Returns the number of
    runs created; existing runs for the same occurrences are kept.
    """
    deployment = await read_deployment(connection, deployment_id)
    start = start_time or now
    end = end_time or (start + DEFAULT_WINDOW)
    horizon = max(DEFAULT_MIN_TIME if min_time is None else min_time, dt.timedelta(0))
    limits = FillLimits(horizon=horizon, min_runs=min_runs, max_runs=max_runs)
    rows: list[dict[str, Any]] = []
    for item in deployment.schedules:
        if not item.active:
            continue
        plan = plan_fill(item.schedule.occurrences, start, None, limits)
        times = [t for t in plan.new_times if t <= end]
        source = _ScheduleSource(deployment, item.id, item.slug, item.parameters)
        rows.extend(
            schedules._scheduled_run(source, type(item.schedule).__name__, at, now)
            for at in times
        )
    return await schedules.insert_scheduled_runs(connection, rows, now)


class _ScheduleSource:
    """The deployment and schedule fields a scheduled run copies."""

    def __init__(
        self,
        deployment: Deployment,
        schedule_id: UUID,
        slug: str | None,
        parameters: dict[str, Any],
    ) -> None:
        self.id = schedule_id
        self.slug = slug
        self.parameters = parameters
        self.deployment_id = deployment.id
        self.flow_id = deployment.flow_id
        self.version = deployment.version
        self.tags = deployment.tags
        self.labels = deployment.labels
        self.deployment_parameters = deployment.parameters
        self.work_queue_name = deployment.work_queue_name
        self.work_queue_id = deployment.work_queue_id
        self.infrastructure_document_id = deployment.infrastructure_document_id


async def read_scheduled_flow_runs(
    connection: AsyncConnection,
    deployment_ids: list[UUID],
    scheduled_before: dt.datetime | None,
    limit: int,
    now: dt.datetime,
) -> list[FlowRun]:
    """Return the deployments' SCHEDULED runs due by `scheduled_before`.

    Records the poll: the deployments' `last_polled` becomes `now` and their
    status READY, as a runner polling for them is what makes them ready.
    """
    where = sa.and_(
        flow_runs.c.deployment_id.in_(deployment_ids),
        flow_runs.c.state_type == StateType.SCHEDULED.value,
    )
    if scheduled_before is not None:
        where = sa.and_(
            where, flow_runs.c.next_scheduled_start_time <= scheduled_before
        )
    result = await runs.read_flow_runs(
        connection, where, FlowRunSort.NEXT_SCHEDULED_START_TIME_ASC, limit
    )
    if deployment_ids:
        await connection.execute(
            sa.update(deployments)
            .where(deployments.c.id.in_(deployment_ids))
            .values(last_polled=now, status="READY")
        )
    return result


def deployments_where(
    deployment_filter: Any = None,
    flows_filter: FlowFilter | None = None,
    flow_runs_filter: FlowRunFilter | None = None,
    task_runs_filter: TaskRunFilter | None = None,
    work_pools_filter: WorkPoolFilter | None = None,
    work_queues_filter: WorkQueueFilter | None = None,
) -> Clause:
    """Combine every filter body of a deployments `/filter` request."""
    clauses = [deployment_criteria(deployment_filter)]
    if flows_filter is not None:
        matching = sa.select(flows.c.id).where(flow_criteria(flows_filter))
        clauses.append(deployments.c.flow_id.in_(matching))
    if flow_runs_filter is not None or task_runs_filter is not None:
        matching = sa.select(flow_runs.c.deployment_id).where(
            flow_runs_where(flow_runs_filter, task_runs_filter=task_runs_filter)
        )
        clauses.append(deployments.c.id.in_(matching))
    if work_pools_filter is not None:
        matching = (
            sa.select(work_queues.c.id)
            .join(work_pools, work_pools.c.id == work_queues.c.work_pool_id)
            .where(work_pool_criteria(work_pools_filter))
        )
        clauses.append(deployments.c.work_queue_id.in_(matching))
    if work_queues_filter is not None:
        matching = sa.select(work_queues.c.id).where(
            work_queue_criteria(work_queues_filter)
        )
        clauses.append(deployments.c.work_queue_id.in_(matching))
    return sa.and_(*clauses)
