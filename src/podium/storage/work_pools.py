"""Queries for work pools."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import Forbidden, InvalidRequest, ObjectAlreadyExists, ObjectNotFound
from podium.schemas.work_pools import (
    WorkPool,
    WorkPoolConcurrencyStatus,
    WorkPoolCreate,
    WorkPoolFilter,
    WorkPoolStatus,
    WorkPoolUpdate,
)
from podium.schemas.work_queues import WorkQueueConcurrencyStatusDetail, WorkQueueCreate
from podium.schemas.workers import WorkerStatus
from podium.storage.filtering import Clause, compile_filter
from podium.storage.tables import flow_runs, work_pools, work_queues, workers
from podium.storage.work_queues import (
    DEFAULT_AGENT_POOL_NAME,
    SLOT_STATES,
    insert_work_queue,
    read_work_queues,
    slot_holders_query,
    slot_summary,
)

# Pools of this type are the Prefect 2 agent pool; they have no status.
AGENT_POOL_TYPE = "prefect-agent"

# Names starting with this (any case) are reserved for Prefect's own pools.
RESERVED_PREFIX = "prefect"


def work_pool_criteria(flt: WorkPoolFilter | None) -> Clause:
    return compile_filter(
        flt,
        {"id": work_pools.c.id, "name": work_pools.c.name, "type": work_pools.c.type},
    )


def check_job_variable_defaults(template: dict[str, Any]) -> None:
    """Reject a variables schema that is not JSON Schema, or defaults it rejects.

    Defaults that are block references (`{"$ref": ...}`) or templates
    (`"{{ ... }}"`) are resolved only when a run starts, so they are not
    checked here. A `null` default is accepted for any variable.
    """
    variables = template.get("variables")
    if not variables:
        return
    # Imported on first use: an idle server need not hold jsonschema.
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(variables)
    except jsonschema.SchemaError as exc:
        raise InvalidRequest(
            f"Invalid base_job_template variables schema: {exc.message}"
        ) from exc

    properties: dict[str, Any] = variables.get("properties") or {}
    for name, schema in properties.items():
        if not isinstance(schema, dict) or "default" not in schema:
            continue
        default = schema["default"]
        if default is None or _is_deferred_value(default):
            continue
        validator = jsonschema.Draft202012Validator(_without_required(schema))
        error = jsonschema.exceptions.best_match(validator.iter_errors(default))
        if error is not None:
            raise InvalidRequest(
                "Validation failed for work pool's job variable defaults: "
                f"the default of {name!r} is invalid: {error.message}"
            )


def _is_deferred_value(value: Any) -> bool:
    if isinstance(value, dict) and "$ref" in value:
        return True
    return isinstance(value, str) and "{{" in value


def _without_required(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _without_required(v) for k, v in schema.items() if k != "required"}
    if isinstance(schema, list):
        return [_without_required(item) for item in schema]
    return schema


def _reject_reserved(name: str, action: str) -> None:
    if name.lower().startswith(RESERVED_PREFIX):
        raise Forbidden(
            f"Work pool names starting with 'Prefect' are reserved; cannot {action} {name!r}."
        )


def _initial_status(pool_type: str, is_paused: bool) -> str | None:
    if pool_type == AGENT_POOL_TYPE:
        return None
    return (WorkPoolStatus.PAUSED if is_paused else WorkPoolStatus.NOT_READY).value


async def insert_work_pool(
    connection: AsyncConnection, pool: WorkPoolCreate, now: dt.datetime | None = None
) -> UUID:
    """Insert a pool with its `default` queue and return the pool's id."""
    now = now or dt.datetime.now(dt.UTC)
    taken = (
        await connection.execute(
            sa.select(work_pools.c.id).where(work_pools.c.name == pool.name)
        )
    ).first()
    if taken is not None:
        raise ObjectAlreadyExists(f"A work pool named {pool.name!r} already exists.")
    check_job_variable_defaults(pool.base_job_template)

    values = pool.model_dump(mode="json")
    status = _initial_status(pool.type, pool.is_paused)
    pool_id = (
        await connection.execute(
            sa.insert(work_pools)
            .values(**values, status=status, last_transitioned_status_at=now)
            .returning(work_pools.c.id)
        )
    ).scalar_one()
    default_queue = WorkQueueCreate(
        name="default", description="The work pool's default queue."
    )
    queue_id = await insert_work_queue(connection, pool_id, default_queue)
    await connection.execute(
        sa.update(work_pools)
        .where(work_pools.c.id == pool_id)
        .values(default_queue_id=queue_id)
    )
    return pool_id  # type: ignore[no-any-return]


async def create_work_pool(
    connection: AsyncConnection, pool: WorkPoolCreate
) -> WorkPool:
    _reject_reserved(pool.name, "create")
    pool_id = await insert_work_pool(connection, pool)
    return (await _read_pools(connection, work_pools.c.id == pool_id))[0]


async def ensure_default_agent_pool(connection: AsyncConnection) -> UUID:
    """Return the id of the agent pool that contains pool-less queues, creating it."""
    pool_id = (
        await connection.execute(
            sa.select(work_pools.c.id).where(
                work_pools.c.name == DEFAULT_AGENT_POOL_NAME
            )
        )
    ).scalar()
    if pool_id is not None:
        return pool_id  # type: ignore[no-any-return]
    return await insert_work_pool(
        connection, WorkPoolCreate(name=DEFAULT_AGENT_POOL_NAME, type=AGENT_POOL_TYPE)
    )


async def count_pool_active_slots(
    connection: AsyncConnection, pool_ids: list[UUID]
) -> dict[UUID, int]:
    """Count slot-holding runs of each pool over all of its queues, paused or not."""
    if not pool_ids:
        return {}
    query = (
        sa.select(work_queues.c.work_pool_id, sa.func.count())
        .select_from(
            flow_runs.join(work_queues, work_queues.c.id == flow_runs.c.work_queue_id)
        )
        .where(
            work_queues.c.work_pool_id.in_(pool_ids),
            flow_runs.c.state_type.in_([s.value for s in SLOT_STATES]),
        )
        .group_by(work_queues.c.work_pool_id)
    )
    return {row[0]: int(row[1]) for row in await connection.execute(query)}


async def _read_pools(
    connection: AsyncConnection,
    where: Clause,
    limit: int | None = None,
    offset: int = 0,
) -> list[WorkPool]:
    query = sa.select(work_pools).where(where).order_by(work_pools.c.name)
    rows = (await connection.execute(query.limit(limit).offset(offset))).all()
    pools = [WorkPool.model_validate(row) for row in rows]
    limited = [p.id for p in pools if p.concurrency_limit is not None]
    counts = await count_pool_active_slots(connection, limited)
    for pool in pools:
        if pool.concurrency_limit is not None:
            pool.active_slots = counts.get(pool.id, 0)
    return pools


async def read_work_pool_by_name(connection: AsyncConnection, name: str) -> WorkPool:
    pools = await _read_pools(connection, work_pools.c.name == name)
    if not pools:
        raise ObjectNotFound(f'Work pool "{name}" not found.')
    return pools[0]


async def read_work_pool(connection: AsyncConnection, work_pool_id: UUID) -> WorkPool:
    pools = await _read_pools(connection, work_pools.c.id == work_pool_id)
    if not pools:
        raise ObjectNotFound(f"Work pool {work_pool_id} not found.")
    return pools[0]


async def read_work_pools(
    connection: AsyncConnection,
    where: Clause,
    limit: int | None = None,
    offset: int = 0,
) -> list[WorkPool]:
    return await _read_pools(connection, where, limit, offset)


async def count_work_pools(connection: AsyncConnection, where: Clause) -> int:
    query = sa.select(sa.func.count()).select_from(work_pools).where(where)
    return int((await connection.execute(query)).scalar_one())


async def _has_online_worker(connection: AsyncConnection, work_pool_id: UUID) -> bool:
    row = (
        await connection.execute(
            sa.select(workers.c.id)
            .where(
                workers.c.work_pool_id == work_pool_id,
                workers.c.status == WorkerStatus.ONLINE.value,
            )
            .limit(1)
        )
    ).first()
    return row is not None


async def update_work_pool(
    connection: AsyncConnection,
    name: str,
    update: WorkPoolUpdate,
    now: dt.datetime | None = None,
) -> None:
    """Update a pool; pausing or resuming it also sets its status."""
    now = now or dt.datetime.now(dt.UTC)
    values = update.model_dump(mode="json", exclude_unset=True)
    if name.lower().startswith(RESERVED_PREFIX) and set(values) - {
        "is_paused",
        "concurrency_limit",
    }:
        raise Forbidden(
            f"Work pool {name!r} is reserved; only is_paused and concurrency_limit can change."
        )
    pool = await read_work_pool_by_name(connection, name)
    if update.base_job_template is not None:
        check_job_variable_defaults(update.base_job_template)
    if values.get("is_paused") is None:
        values.pop("is_paused", None)

    if pool.type != AGENT_POOL_TYPE and "is_paused" in values:
        if values["is_paused"]:
            status = WorkPoolStatus.PAUSED
        elif await _has_online_worker(connection, pool.id):
            status = WorkPoolStatus.READY
        else:
            status = WorkPoolStatus.NOT_READY
        if status != pool.status:
            values["status"] = status.value
            values["last_transitioned_status_at"] = now
    if values:
        await connection.execute(
            sa.update(work_pools).where(work_pools.c.id == pool.id).values(**values)
        )


async def set_work_pool_status(
    connection: AsyncConnection,
    work_pool_id: UUID,
    status: WorkPoolStatus,
    now: dt.datetime,
) -> bool:
    """Move a pool that is not paused to READY or NOT_READY; return whether it changed."""
    result = await connection.execute(
        sa.update(work_pools)
        .where(
            work_pools.c.id == work_pool_id,
            work_pools.c.type != AGENT_POOL_TYPE,
            work_pools.c.is_paused.is_(False),
            work_pools.c.status.is_distinct_from(status.value),
        )
        .values(status=status.value, last_transitioned_status_at=now)
    )
    return bool(result.rowcount)


async def delete_work_pool(connection: AsyncConnection, name: str) -> None:
    """Delete a pool with its queues and workers; its runs lose their queue."""
    _reject_reserved(name, "delete")
    pool = await read_work_pool_by_name(connection, name)
    queue_ids = sa.select(work_queues.c.id).where(work_queues.c.work_pool_id == pool.id)
    await connection.execute(
        sa.update(flow_runs)
        .where(flow_runs.c.work_queue_id.in_(queue_ids))
        .values(work_queue_id=None)
    )
    await connection.execute(sa.delete(work_pools).where(work_pools.c.id == pool.id))


async def read_work_pool_concurrency_status(
    connection: AsyncConnection,
    name: str,
    now: dt.datetime,
    page: int,
    limit: int,
    flow_run_limit: int,
) -> WorkPoolConcurrencyStatus:
    """Return the pool's slot use with one page of its queues and their runs."""
    pool = await read_work_pool_by_name(connection, name)
    queues = await read_work_queues(
        connection,
        sa.true(),
        limit=limit,
        offset=(page - 1) * limit,
        work_pool_id=pool.id,
    )
    queue_count = int(
        (
            await connection.execute(
                sa.select(sa.func.count())
                .select_from(work_queues)
                .where(work_queues.c.work_pool_id == pool.id)
            )
        ).scalar_one()
    )
    all_queue_ids = sa.select(work_queues.c.id).where(
        work_queues.c.work_pool_id == pool.id
    )
    rows = (
        await connection.execute(
            slot_holders_query(flow_runs.c.work_queue_id.in_(all_queue_ids))
        )
    ).all()

    runs_by_queue: dict[UUID, list[Any]] = {}
    for row in rows:
        runs_by_queue.setdefault(row.work_queue_id, []).append(row)
    details = [
        WorkQueueConcurrencyStatusDetail(
            queue_id=queue.id,
            queue_name=queue.name,
            active_slots=len(runs_by_queue.get(queue.id, [])),
            concurrency_limit=queue.concurrency_limit,
            flow_runs=[
                slot_summary(r, now)
                for r in runs_by_queue.get(queue.id, [])[:flow_run_limit]
            ],
            flow_run_count=len(runs_by_queue.get(queue.id, [])),
        )
        for queue in queues
    ]
    return WorkPoolConcurrencyStatus(
        active_slots=len(rows),
        concurrency_limit=pool.concurrency_limit,
        queues=details,
        count=queue_count,
        limit=limit,
        pages=(queue_count + limit - 1) // limit if limit > 0 else 0,
        page=page,
    )
