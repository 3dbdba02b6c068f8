"""Queries behind the `/ui` endpoints of the Prefect dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.orchestration.context import TERMINAL_STATE_TYPES, StateType
from podium.schemas.deployments import DeploymentFilter
from podium.schemas.flow_runs import FlowRunFilter, FlowRunSort
from podium.schemas.flows import FlowFilter
from podium.schemas.task_runs import (
    TaskRunFilter,
    TaskRunFilterState,
    TaskRunFilterStateType,
)
from podium.schemas.ui import (
    CountByState,
    SimpleFlowRun,
    SimpleNextFlowRun,
    TaskRunCount,
    UITaskRun,
)
from podium.schemas.work_pools import WorkPoolFilter
from podium.schemas.work_queues import WorkQueueFilter
from podium.storage import task_runs as task_runs_storage
from podium.storage.filtering import Clause
from podium.storage.flow_runs import SORTS as FLOW_RUN_SORTS
from podium.storage.run_criteria import flow_runs_where, task_runs_where
from podium.storage.run_fields import estimated_run_time, estimated_start_time_delta
from podium.storage.tables import deployments, flow_runs, task_runs, variables

FAILED_TYPES = (StateType.FAILED.value, StateType.CRASHED.value)


async def read_flow_run_history(
    connection: AsyncConnection,
    where: Clause,
    sort: FlowRunSort,
    limit: int,
    offset: int,
    now: dt.datetime,
) -> list[SimpleFlowRun]:
    """Return the matching flow runs as points: time, state, duration, lateness."""
    query = (
        sa.select(
            flow_runs.c.id,
            flow_runs.c.state_type,
            flow_runs.c.state_timestamp,
            flow_runs.c.start_time,
            flow_runs.c.expected_start_time,
            flow_runs.c.total_run_time,
        )
        .where(where, flow_runs.c.state_type.is_not(None))
        .order_by(*FLOW_RUN_SORTS[sort])
        .limit(limit)
        .offset(offset)
    )
    rows = (await connection.execute(query)).mappings()
    return [
        SimpleFlowRun(
            id=row["id"],
            state_type=row["state_type"],
            timestamp=row["start_time"] or row["expected_start_time"],
            duration=estimated_run_time(row, now),
            lateness=estimated_start_time_delta(row, now),
        )
        for row in rows
    ]


async def count_task_runs_by_flow_run(
    connection: AsyncConnection, flow_run_ids: list[UUID]
) -> dict[UUID, int]:
    """Count each flow run's task runs, leaving out those that ran a subflow."""
    subflow_parents = sa.select(flow_runs.c.parent_task_run_id).where(
        flow_runs.c.parent_task_run_id.is_not(None)
    )
    query = (
        sa.select(task_runs.c.flow_run_id, sa.func.count())
        .where(
            task_runs.c.flow_run_id.in_(flow_run_ids),
            task_runs.c.id.not_in(subflow_parents),
        )
        .group_by(task_runs.c.flow_run_id)
    )
    counts: dict[UUID, int] = dict((await connection.execute(query)).all())
    return {run_id: counts.get(run_id, 0) for run_id in flow_run_ids}


async def count_deployments_by_flow(
    connection: AsyncConnection, flow_ids: list[UUID]
) -> dict[UUID, int]:
    query = (
        sa.select(deployments.c.flow_id, sa.func.count())
        .where(deployments.c.flow_id.in_(flow_ids))
        .group_by(deployments.c.flow_id)
    )
    counts: dict[UUID, int] = dict((await connection.execute(query)).all())
    return {flow_id: counts.get(flow_id, 0) for flow_id in flow_ids}


async def read_next_runs_by_flow(
    connection: AsyncConnection, flow_ids: list[UUID]
) -> dict[UUID, SimpleNextFlowRun | None]:
    """Return each flow's SCHEDULED run that is due first, or None."""
    position = (
        sa.func.row_number()
        .over(
            partition_by=flow_runs.c.flow_id,
            order_by=[flow_runs.c.next_scheduled_start_time, flow_runs.c.id],
        )
        .label("position")
    )
    scheduled = (
        sa.select(
            flow_runs.c.id,
            flow_runs.c.flow_id,
            flow_runs.c.name,
            flow_runs.c.state_name,
            flow_runs.c.state_type,
            flow_runs.c.next_scheduled_start_time,
            position,
        )
        .where(
            flow_runs.c.flow_id.in_(flow_ids),
            flow_runs.c.state_type == StateType.SCHEDULED.value,
            flow_runs.c.next_scheduled_start_time.is_not(None),
        )
        .subquery()
    )
    query = sa.select(scheduled).where(scheduled.c.position == 1)
    rows = (await connection.execute(query)).mappings()
    found = {row["flow_id"]: SimpleNextFlowRun.model_validate(row) for row in rows}
    return {flow_id: found.get(flow_id) for flow_id in flow_ids}


async def count_task_runs_by_state(
    connection: AsyncConnection, where: Clause
) -> CountByState:
    query = (
        sa.select(task_runs.c.state_type, sa.func.count())
        .where(where, task_runs.c.state_type.is_not(None))
        .group_by(task_runs.c.state_type)
    )
    counts: dict[str, int] = dict((await connection.execute(query)).all())
    return CountByState.model_validate(counts)


def dashboard_window(
    after: dt.datetime, before: dt.datetime | None, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """Return the dashboard's window: from the minute of `after` to the end of
    the minute of `before` (default: now)."""
    start = after.replace(second=0, microsecond=0)
    end = (before or now).replace(second=59, microsecond=999_999)
    return start, end


def finished_task_runs_where(
    task_runs_filter: TaskRunFilter,
    flow_runs_filter: FlowRunFilter | None,
    flows_filter: FlowFilter | None,
    deployments_filter: DeploymentFilter | None,
    work_pools: WorkPoolFilter | None,
    work_queues: WorkQueueFilter | None,
) -> Clause:
    """Match task runs in a final state, ignoring any state the filter names."""
    final = TaskRunFilterState(
        type=TaskRunFilterStateType(any_=sorted(TERMINAL_STATE_TYPES))
    )
    task_runs_filter = task_runs_filter.model_copy(update={"state": final})
    where = task_runs_where(
        task_runs_filter, flow_runs_filter, flows_filter, deployments_filter
    )
    if work_pools is None and work_queues is None:
        return where
    in_pools = sa.select(flow_runs.c.id).where(
        flow_runs_where(work_pools=work_pools, work_queues=work_queues)
    )
    return sa.and_(where, task_runs.c.flow_run_id.in_(in_pools))


async def read_dashboard_task_run_counts(
    connection: AsyncConnection,
    where: Clause,
    start: dt.datetime,
    end: dt.datetime,
    intervals: int,
) -> list[TaskRunCount]:
    """Count completed and failed task runs by start time, in equal intervals.

    Interval `i` covers `start + i * width` up to the next boundary, where
    `width = (end - start) / intervals`. Runs outside `start`..`end` are not
    counted. FAILED and CRASHED runs count as failed, the rest as completed.
    """
    width = (end - start) / intervals
    bounds = [start + (i + 1) * width for i in range(intervals)]
    # Compare timestamps directly, which both backends do exactly, instead of
    # dividing epoch seconds by the width.
    interval = sa.case(
        *(
            (task_runs.c.start_time < bound, index)
            for index, bound in enumerate(bounds)
        ),
        else_=None,
    ).label("interval")
    is_failed = sa.case((task_runs.c.state_type.in_(FAILED_TYPES), 1), else_=0)
    # Group in an outer query: PostgreSQL does not match a CASE with bound
    # parameters in GROUP BY to the same CASE in the select list.
    per_run = (
        sa.select(interval, is_failed.label("failed"))
        .where(where, task_runs.c.start_time >= start, task_runs.c.start_time <= end)
        .subquery()
    )
    query = sa.select(
        per_run.c.interval,
        (sa.func.count() - sa.func.sum(per_run.c.failed)).label("completed"),
        sa.func.sum(per_run.c.failed).label("failed"),
    ).group_by(per_run.c.interval)
    counts = [TaskRunCount() for _ in range(intervals)]
    for row in (await connection.execute(query)).mappings():
        if row["interval"] is not None:
            counts[row["interval"]] = TaskRunCount(
                completed=int(row["completed"]), failed=int(row["failed"])
            )
    return counts


async def read_ui_task_run(connection: AsyncConnection, task_run_id: UUID) -> UITaskRun:
    """Return a task run with the name of its flow run."""
    task_run = await task_runs_storage.read_task_run(connection, task_run_id)
    flow_run_name = None
    if task_run.flow_run_id is not None:
        query = sa.select(flow_runs.c.name).where(
            flow_runs.c.id == task_run.flow_run_id
        )
        flow_run_name = (await connection.execute(query)).scalar()
    return UITaskRun(**task_run.model_dump(), flow_run_name=flow_run_name)


async def read_variable_values(connection: AsyncConnection) -> dict[str, Any]:
    """Return every workspace variable's value by name, for hydration."""
    query = sa.select(variables.c.name, variables.c.value)
    return dict((await connection.execute(query)).all())
