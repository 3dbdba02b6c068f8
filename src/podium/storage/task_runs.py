"""Queries for task runs."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import Conflict, ObjectNotFound
from podium.schemas.base import Labels
from podium.schemas.states import OrchestrationResult, StateCreate, StateType
from podium.schemas.task_runs import TaskRun, TaskRunCreate, TaskRunSort, TaskRunUpdate
from podium.storage import dialect
from podium.storage.filtering import Clause
from podium.storage.flow_runs import generate_run_name
from podium.storage.run_fields import (
    ascending,
    descending,
    estimated_run_time_column,
    run_values,
    select_runs,
)
from podium.storage.states import TASK_RUN_TABLES, set_run_state
from podium.storage.tables import flow_runs, task_runs
from podium.storage.tables.base import utcnow


def _sort_columns(sort: TaskRunSort, now: dt.datetime) -> list[Any]:
    match sort:
        case TaskRunSort.ID_DESC:
            return [task_runs.c.id.desc()]
        case TaskRunSort.EXPECTED_START_TIME_ASC:
            return [ascending(task_runs.c.expected_start_time), task_runs.c.id]
        case TaskRunSort.EXPECTED_START_TIME_DESC:
            return [descending(task_runs.c.expected_start_time), task_runs.c.id]
        case TaskRunSort.NAME_ASC:
            return [task_runs.c.name.asc(), task_runs.c.id]
        case TaskRunSort.NAME_DESC:
            return [task_runs.c.name.desc(), task_runs.c.id]
        case TaskRunSort.NEXT_SCHEDULED_START_TIME_ASC:
            return [ascending(task_runs.c.next_scheduled_start_time), task_runs.c.id]
        case TaskRunSort.END_TIME_DESC:
            return [descending(task_runs.c.end_time), task_runs.c.id]
        case TaskRunSort.DURATION_DESC:
            duration = estimated_run_time_column(task_runs, now)
            return [
                descending(duration),
                descending(task_runs.c.expected_start_time),
                task_runs.c.id.desc(),
            ]
        case TaskRunSort.DURATION_ASC:
            duration = estimated_run_time_column(task_runs, now)
            return [
                ascending(duration),
                descending(task_runs.c.expected_start_time),
                task_runs.c.id.desc(),
            ]


def task_run_not_found(task_run_id: UUID) -> ObjectNotFound:
    return ObjectNotFound(f"Task run {task_run_id} not found.")


def _to_task_run(row: Any, now: dt.datetime) -> TaskRun:
    return TaskRun.model_validate(run_values(row._mapping, now))


async def _system_labels(
    connection: AsyncConnection, flow_run_id: UUID | None
) -> Labels:
    """Return the labels a task run inherits: its flow run's, plus the run's id.

    Raises Conflict when the flow run does not exist, as the foreign key
    would, but with a message that names it.
    """
    if flow_run_id is None:
        return {}
    query = sa.select(flow_runs.c.labels).where(flow_runs.c.id == flow_run_id)
    parent = (await connection.execute(query)).first()
    if parent is None:
        raise Conflict(
            f"Flow run {flow_run_id} does not exist, so no task run can be created in it."
        )
    return dict(parent.labels or {}) | {"prefect.flow-run.id": str(flow_run_id)}


async def _find_task_run(
    connection: AsyncConnection, task_run: TaskRunCreate
) -> UUID | None:
    same_flow_run: sa.ColumnElement[bool]
    if task_run.flow_run_id is None:
        same_flow_run = task_runs.c.flow_run_id.is_(None)
    else:
        same_flow_run = task_runs.c.flow_run_id == task_run.flow_run_id
    query = (
        sa.select(task_runs.c.id)
        .where(
            same_flow_run,
            task_runs.c.task_key == task_run.task_key,
            task_runs.c.dynamic_key == task_run.dynamic_key,
        )
        .limit(1)
    )
    return (await connection.execute(query)).scalar()


async def create_task_run(
    connection: AsyncConnection, task_run: TaskRunCreate
) -> tuple[TaskRun, bool]:
    """Insert a task run unless one with the same flow run, task key and
    dynamic key exists, in which case that run is returned unchanged.

    A new run gets its first state (PENDING unless one is given) through
    orchestration with `force`. Returns the run and whether it was created.
    """
    labels = await _system_labels(connection, task_run.flow_run_id) | (
        task_run.labels or {}
    )
    values = task_run.model_dump(exclude={"state", "labels", "id"})
    values.update(
        task_run.model_dump(mode="json", include={"empirical_policy", "task_inputs"})
    )
    values["labels"] = labels
    values["name"] = task_run.name or generate_run_name()
    if task_run.id is not None:
        values["id"] = task_run.id

    if task_run.flow_run_id is None:
        # NULL never conflicts in a unique constraint, so look first.
        existing = await _find_task_run(connection, task_run)
        inserted = None
        if existing is None:
            statement = sa.insert(task_runs).values(**values).returning(task_runs.c.id)
            inserted = (await connection.execute(statement)).first()
    else:
        statement = (
            dialect.insert(connection, task_runs)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=[
                    task_runs.c.flow_run_id,
                    task_runs.c.task_key,
                    task_runs.c.dynamic_key,
                ]
            )
            .returning(task_runs.c.id)
        )
        inserted = (await connection.execute(statement)).first()
        existing = None if inserted else await _find_task_run(connection, task_run)

    if inserted is None:
        assert existing is not None
        return await read_task_run(connection, existing), False
    first_state = task_run.state or StateCreate(type=StateType.PENDING)
    await set_run_state(
        connection, TASK_RUN_TABLES, inserted.id, first_state, force=True
    )
    return await read_task_run(connection, inserted.id), True


async def read_task_run(
    connection: AsyncConnection, task_run_id: UUID, now: dt.datetime | None = None
) -> TaskRun:
    query = select_runs(TASK_RUN_TABLES).where(task_runs.c.id == task_run_id)
    row = (await connection.execute(query)).first()
    if row is None:
        raise task_run_not_found(task_run_id)
    return _to_task_run(row, now or utcnow())


async def read_task_runs(
    connection: AsyncConnection,
    where: Clause,
    sort: TaskRunSort = TaskRunSort.ID_DESC,
    limit: int | None = None,
    offset: int = 0,
) -> list[TaskRun]:
    now = utcnow()
    order = _sort_columns(sort, now)
    # Choose the page on the run table alone, then join states for it.
    page = (
        sa.select(task_runs.c.id)
        .where(where)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    query = select_runs(TASK_RUN_TABLES, page).order_by(*order)
    rows = (await connection.execute(query)).all()
    return [_to_task_run(row, now) for row in rows]


async def count_task_runs(connection: AsyncConnection, where: Clause) -> int:
    query = sa.select(sa.func.count()).select_from(task_runs).where(where)
    return int((await connection.execute(query)).scalar_one())


async def update_task_run(
    connection: AsyncConnection, task_run_id: UUID, update: TaskRunUpdate
) -> None:
    values = update.model_dump(mode="json", exclude_unset=True)
    if not values:
        await read_task_run(connection, task_run_id)
        return
    result = await connection.execute(
        sa.update(task_runs).where(task_runs.c.id == task_run_id).values(**values)
    )
    if result.rowcount == 0:
        raise task_run_not_found(task_run_id)


async def delete_task_run(connection: AsyncConnection, task_run_id: UUID) -> None:
    result = await connection.execute(
        sa.delete(task_runs).where(task_runs.c.id == task_run_id)
    )
    if result.rowcount == 0:
        raise task_run_not_found(task_run_id)


async def set_task_run_state(
    connection: AsyncConnection,
    task_run_id: UUID,
    state: StateCreate,
    force: bool = False,
) -> tuple[OrchestrationResult, bool]:
    return await set_run_state(connection, TASK_RUN_TABLES, task_run_id, state, force)
