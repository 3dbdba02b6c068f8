"""Queries for flow runs."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import Conflict, ObjectNotFound
from podium.schemas.base import Labels
from podium.schemas.flow_runs import FlowRun, FlowRunCreate, FlowRunSort, FlowRunUpdate
from podium.schemas.states import (
    OrchestrationResult,
    SetStateStatus,
    StateAbortDetails,
    StateCreate,
    StateDetails,
    StateType,
)
from podium.storage import dialect
from podium.storage.filtering import Clause
from podium.storage.flow_run_events import EVENT_CONTEXT_PREFIX
from podium.storage.run_documents import flow_run_document, raw_columns
from podium.storage.run_fields import ascending, descending, run_values
from podium.storage.states import (
    FLOW_RUN_TABLES,
    STATE_FIELDS,
    STATE_PREFIX,
    Transition,
    current_state_columns,
    set_run_state,
    transition_run,
)
from podium.storage.tables import (
    deployments,
    flow_run_states,
    flow_runs,
    flows,
    work_pools,
    work_queues,
)
from podium.storage.tables.base import utcnow
from podium.storage.work_queues import resolve_work_queue

SORTS: dict[FlowRunSort, list[Any]] = {
    FlowRunSort.ID_DESC: [flow_runs.c.id.desc()],
    FlowRunSort.START_TIME_ASC: [
        ascending(
            sa.func.coalesce(flow_runs.c.start_time, flow_runs.c.expected_start_time)
        ),
        flow_runs.c.id,
    ],
    FlowRunSort.START_TIME_DESC: [
        descending(
            sa.func.coalesce(flow_runs.c.start_time, flow_runs.c.expected_start_time)
        ),
        flow_runs.c.id,
    ],
    FlowRunSort.EXPECTED_START_TIME_ASC: [
        ascending(flow_runs.c.expected_start_time),
        flow_runs.c.id,
    ],
    FlowRunSort.EXPECTED_START_TIME_DESC: [
        descending(flow_runs.c.expected_start_time),
        flow_runs.c.id,
    ],
    FlowRunSort.NAME_ASC: [flow_runs.c.name.asc(), flow_runs.c.id],
    FlowRunSort.NAME_DESC: [flow_runs.c.name.desc(), flow_runs.c.id],
    FlowRunSort.NEXT_SCHEDULED_START_TIME_ASC: [
        ascending(flow_runs.c.next_scheduled_start_time),
        flow_runs.c.id,
    ],
    FlowRunSort.END_TIME_DESC: [descending(flow_runs.c.end_time), flow_runs.c.id],
}


# Fields stored in JSON columns, so they are dumped as JSON values.
JSON_FIELDS = {"parameters", "context", "empirical_policy", "job_variables"}


def flow_run_not_found(flow_run_id: UUID) -> ObjectNotFound:
    return ObjectNotFound(f"Flow run {flow_run_id} not found.")


def generate_run_name() -> str:
    """Return a random two-word name such as `brave-otter`."""
    # Imported on the first call: coolname builds its word lists when
    # imported, about 0.4 MB that an idle server does not need. That first
    # call takes about 14 ms longer.
    import coolname  # type: ignore[import-untyped]

    return str(coolname.generate_slug(2))


def select_flow_runs(page: sa.Subquery | None = None) -> sa.Select[Any]:
    """Select flow runs with their current state and work pool, in one query.

    With `page` (a subquery of run ids), only those runs are read.
    """
    runs: sa.FromClause = flow_runs
    if page is not None:
        runs = flow_runs.join(page, page.c.id == flow_runs.c.id)
    join = (
        runs.outerjoin(flow_run_states, flow_run_states.c.id == flow_runs.c.state_id)
        .outerjoin(work_queues, work_queues.c.id == flow_runs.c.work_queue_id)
        .outerjoin(work_pools, work_pools.c.id == work_queues.c.work_pool_id)
    )
    return sa.select(
        flow_runs,
        *current_state_columns(FLOW_RUN_TABLES),
        work_pools.c.id.label("work_pool_id"),
        work_pools.c.name.label("work_pool_name"),
    ).select_from(join)


def _to_flow_run(row: Any, now: dt.datetime) -> FlowRun:
    return FlowRun.model_validate(run_values(row._mapping, now))


_SELECT_FLOW_LABELS = sa.select(flows.c.labels).where(
    flows.c.id == sa.bindparam("flow_id")
)


async def _flow_labels(connection: AsyncConnection, flow_id: UUID) -> Labels:
    result = await connection.execute(_SELECT_FLOW_LABELS, {"flow_id": flow_id})
    row = result.first()
    if row is None:
        raise Conflict(
            f"Flow {flow_id} does not exist, so no run of it can be created."
        )
    return dict(row.labels or {})


_SELECT_DEPLOYMENT = sa.select(deployments.c.id).where(
    deployments.c.id == sa.bindparam("deployment_id")
)


async def _require_deployment(connection: AsyncConnection, deployment_id: UUID) -> None:
    # flow_runs.deployment_id has no foreign key, so the check is made here.
    result = await connection.execute(
        _SELECT_DEPLOYMENT, {"deployment_id": deployment_id}
    )
    if result.first() is None:
        raise Conflict(
            f"Deployment {deployment_id} does not exist, so no run of it can be "
            "created. Create the deployment first or leave deployment_id out."
        )


async def create_flow_run(
    connection: AsyncConnection,
    flow_run: FlowRunCreate,
    created_by: dict[str, Any] | None = None,
) -> tuple[FlowRun, bool]:
    """Insert a flow run and give it its first state.

    Without a state the run starts PENDING. The first state goes through
    orchestration with `force`, so it is always accepted. When a run of the
    same flow already has the idempotency key, that run is returned
    unchanged. Returns the run and whether it was created.
    """
    labels = await _flow_labels(connection, flow_run.flow_id)
    if flow_run.deployment_id is not None:
        await _require_deployment(connection, flow_run.deployment_id)
    labels |= {"prefect.flow.id": str(flow_run.flow_id)}
    labels |= flow_run.labels or {}

    values = flow_run.model_dump(exclude={"state", "work_pool_name", "labels", "name"})
    values.update(flow_run.model_dump(mode="json", include=JSON_FIELDS))
    values.update(
        name=flow_run.name or generate_run_name(),
        labels=labels,
        created_by=created_by,
    )
    # A run created for a work pool goes to the named queue of that pool, or
    # to the pool's default queue.
    if flow_run.work_pool_name is not None:
        queue = await resolve_work_queue(
            connection, flow_run.work_pool_name, flow_run.work_queue_name
        )
        values.update(work_queue_id=queue.id, work_queue_name=queue.name)
    statement = _insert_statement(connection, flow_run.idempotency_key is not None)
    inserted = (await connection.execute(statement, values)).first()

    if inserted is None:
        existing = await connection.execute(
            sa.select(flow_runs.c.id).where(
                flow_runs.c.flow_id == flow_run.flow_id,
                flow_runs.c.idempotency_key == flow_run.idempotency_key,
            )
        )
        return await read_flow_run(connection, existing.scalar_one()), False

    first_state = flow_run.state or StateCreate(type=StateType.PENDING)
    transition = await transition_run(
        connection, FLOW_RUN_TABLES, inserted.id, first_state, force=True
    )
    return _flow_run_as_written(transition), True


# Per backend, with and without an idempotency key. Building an INSERT and
# its statement-cache key for each run costs more than executing it.
_INSERTS: dict[tuple[str, bool], Any] = {}


def _insert_statement(connection: AsyncConnection, idempotent: bool) -> Any:
    key = (connection.dialect.name, idempotent)
    statement = _INSERTS.get(key)
    if statement is None:
        statement = dialect.insert(connection, flow_runs)
        if idempotent:
            statement = statement.on_conflict_do_nothing(
                index_elements=[flow_runs.c.flow_id, flow_runs.c.idempotency_key]
            )
        statement = _INSERTS[key] = statement.returning(flow_runs.c.id)
    return statement


def _flow_run_as_written(transition: Transition) -> FlowRun:
    """Build the run a read would return, from the row its transition wrote."""
    run = transition.run
    row = {
        key: value
        for key, value in run.items()
        if not key.startswith(EVENT_CONTEXT_PREFIX)
    }
    row["work_pool_id"] = run[EVENT_CONTEXT_PREFIX + "work_pool_id"]
    row["work_pool_name"] = run[EVENT_CONTEXT_PREFIX + "work_pool_name"]
    state = transition.state
    for name in STATE_FIELDS:
        row[STATE_PREFIX + name] = None if state is None else getattr(state, name)
    return FlowRun.model_validate(run_values(row, utcnow()))


# Built once: constructing the joined select costs more than running it.
_SELECT_ONE_FLOW_RUN = select_flow_runs().where(
    flow_runs.c.id == sa.bindparam("flow_run_id")
)


async def read_flow_run(
    connection: AsyncConnection, flow_run_id: UUID, now: dt.datetime | None = None
) -> FlowRun:
    result = await connection.execute(
        _SELECT_ONE_FLOW_RUN, {"flow_run_id": flow_run_id}
    )
    row = result.first()
    if row is None:
        raise flow_run_not_found(flow_run_id)
    return _to_flow_run(row, now or utcnow())


def _select_page(
    where: Clause, sort: FlowRunSort, limit: int | None, offset: int
) -> sa.Select[Any]:
    # Choose the page on the run table alone, then join states and pools for
    # those rows only: the joins never run for rows the page leaves out.
    page = (
        sa.select(flow_runs.c.id)
        .where(where)
        .order_by(*SORTS[sort])
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    return select_flow_runs(page).order_by(*SORTS[sort])


async def read_flow_runs(
    connection: AsyncConnection,
    where: Clause,
    sort: FlowRunSort = FlowRunSort.ID_DESC,
    limit: int | None = None,
    offset: int = 0,
) -> list[FlowRun]:
    rows = (await connection.execute(_select_page(where, sort, limit, offset))).all()
    now = utcnow()
    return [_to_flow_run(row, now) for row in rows]


async def read_flow_run_documents(
    connection: AsyncConnection,
    where: Clause,
    sort: FlowRunSort = FlowRunSort.ID_DESC,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Read a page of flow runs as JSON-ready dicts (see `run_documents`)."""
    query = raw_columns(_select_page(where, sort, limit, offset))
    result = await connection.execute(query)
    keys = list(result.keys())
    now = utcnow()
    return [
        flow_run_document(dict(zip(keys, row, strict=True)), now)
        for row in result.all()
    ]


async def count_flow_runs(connection: AsyncConnection, where: Clause) -> int:
    query = sa.select(sa.func.count()).select_from(flow_runs).where(where)
    return int((await connection.execute(query)).scalar_one())


async def update_flow_run(
    connection: AsyncConnection, flow_run_id: UUID, update: FlowRunUpdate
) -> None:
    values = update.model_dump(mode="json", exclude_unset=True)
    if not values:
        await read_flow_run(connection, flow_run_id)
        return
    result = await connection.execute(
        sa.update(flow_runs).where(flow_runs.c.id == flow_run_id).values(**values)
    )
    if result.rowcount == 0:
        raise flow_run_not_found(flow_run_id)


async def update_flow_run_labels(
    connection: AsyncConnection, flow_run_id: UUID, labels: Labels
) -> None:
    """Merge `labels` into the run's labels; keys given replace stored ones."""
    query = sa.select(flow_runs.c.labels).where(flow_runs.c.id == flow_run_id)
    row = (await connection.execute(query.with_for_update())).first()
    if row is None:
        raise flow_run_not_found(flow_run_id)
    merged = dict(row.labels or {}) | labels
    await connection.execute(
        sa.update(flow_runs).where(flow_runs.c.id == flow_run_id).values(labels=merged)
    )


async def delete_flow_runs(
    connection: AsyncConnection, where: Clause, limit: int | None = None
) -> list[UUID]:
    """Delete matching flow runs (their states and task runs cascade)."""
    query = sa.select(flow_runs.c.id).where(where).limit(limit)
    ids = list((await connection.execute(query)).scalars().all())
    if ids:
        await connection.execute(sa.delete(flow_runs).where(flow_runs.c.id.in_(ids)))
    return ids


async def delete_flow_run(connection: AsyncConnection, flow_run_id: UUID) -> None:
    if not await delete_flow_runs(connection, flow_runs.c.id == flow_run_id):
        raise flow_run_not_found(flow_run_id)


async def set_flow_run_state(
    connection: AsyncConnection,
    flow_run_id: UUID,
    state: StateCreate,
    force: bool = False,
) -> tuple[OrchestrationResult, bool]:
    return await set_run_state(connection, FLOW_RUN_TABLES, flow_run_id, state, force)


async def resume_flow_run(
    connection: AsyncConnection, flow_run_id: UUID, run_input: dict[str, Any] | None
) -> tuple[OrchestrationResult, bool]:
    """Propose the state that ends a pause: Running, or a `Resuming` schedule
    for runs paused with `pause_reschedule`.

    A run that is not PAUSED gets ABORT and is left unchanged.
    TODO: store and validate `run_input` once flow run inputs exist.
    """
    run = await read_flow_run(connection, flow_run_id)
    state = run.state
    if state is None or state.type != StateType.PAUSED:
        reason = "Cannot resume a flow run that is not paused."
        result = OrchestrationResult(
            state=state,
            status=SetStateStatus.ABORT,
            details=StateAbortDetails(reason=reason),
        )
        return result, False
    if state.state_details.pause_reschedule:
        details = StateDetails(scheduled_time=utcnow())
        proposed = StateCreate(
            type=StateType.SCHEDULED, name="Resuming", state_details=details
        )
    else:
        proposed = StateCreate(type=StateType.RUNNING)
    return await set_run_state(connection, FLOW_RUN_TABLES, flow_run_id, proposed)
