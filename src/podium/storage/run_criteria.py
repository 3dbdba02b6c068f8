"""WHERE clauses for flow run and task run filters, and for filtering any
collection by related runs.

Each `*_criteria` function compiles one filter model against its own table.
The `*_where` functions combine every filter body of a `/filter` endpoint
into one clause on the collection being read, using `IN (subquery)` for
related collections so that no join can duplicate a row.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from podium.schemas.deployments import DeploymentFilter
from podium.schemas.flow_runs import (
    FlowRunFilter,
    FlowRunFilterCreatedBy,
    FlowRunFilterParentFlowRunId,
)
from podium.schemas.flows import FlowFilter
from podium.schemas.task_runs import (
    TaskRunFilter,
    TaskRunFilterFlowRunId,
    TaskRunFilterSubFlowRuns,
)
from podium.schemas.work_pools import WorkPoolFilter
from podium.schemas.work_queues import WorkQueueFilter
from podium.storage.criteria import deployment_criteria, flow_criteria
from podium.storage.filtering import Clause, JsonArray, compile_filter
from podium.storage.tables import deployments as deployments_table
from podium.storage.tables import flow_runs, flows, task_runs
from podium.storage.tables import work_pools as work_pools_table
from podium.storage.tables import work_queues as work_queues_table
from podium.storage.work_pools import work_pool_criteria
from podium.storage.work_queues import work_queue_criteria


def _is_empty(flt: Any) -> bool:
    if flt is None:
        return True
    if isinstance(flt, dict):
        return not flt
    return not flt.model_fields_set


def flow_run_criteria(flt: FlowRunFilter | None) -> Clause:
    return compile_filter(
        flt,
        {
            "id": flow_runs.c.id,
            "name": flow_runs.c.name,
            "tags": JsonArray(flow_runs.c.tags),
            "deployment_id": flow_runs.c.deployment_id,
            "work_queue_name": flow_runs.c.work_queue_name,
            "state": {"type": flow_runs.c.state_type, "name": flow_runs.c.state_name},
            "flow_version": flow_runs.c.flow_version,
            "start_time": flow_runs.c.start_time,
            "end_time": flow_runs.c.end_time,
            "expected_start_time": flow_runs.c.expected_start_time,
            "next_scheduled_start_time": flow_runs.c.next_scheduled_start_time,
            "parent_task_run_id": flow_runs.c.parent_task_run_id,
            "parent_flow_run_id": _parent_flow_run_matches,
            "idempotency_key": flow_runs.c.idempotency_key,
            "created_by": _created_by_matches,
        },
    )


def _parent_flow_run_matches(flt: FlowRunFilterParentFlowRunId) -> Clause:
    """Match subflow runs whose parent task run belongs to one of the flow runs."""
    if flt.any_ is None:
        return sa.true()
    parent_tasks = sa.select(task_runs.c.id).where(
        task_runs.c.flow_run_id.in_(flt.any_)
    )
    return flow_runs.c.parent_task_run_id.in_(parent_tasks)


def _created_by_matches(flt: FlowRunFilterCreatedBy) -> Clause:
    column = flow_runs.c.created_by
    clauses: list[Clause] = []
    if flt.id_ is not None:
        clauses.append(column["id"].as_string().in_([str(i) for i in flt.id_]))
    if flt.type_ is not None:
        clauses.append(column["type"].as_string().in_(flt.type_))
    if flt.is_null_ is not None:
        clauses.append(column.is_(None) if flt.is_null_ else column.is_not(None))
    return sa.and_(sa.true(), *clauses)


def task_run_criteria(flt: TaskRunFilter | None) -> Clause:
    return compile_filter(
        flt,
        {
            "id": task_runs.c.id,
            "name": task_runs.c.name,
            "tags": JsonArray(task_runs.c.tags),
            "state": {"type": task_runs.c.state_type, "name": task_runs.c.state_name},
            "start_time": task_runs.c.start_time,
            "end_time": task_runs.c.end_time,
            "expected_start_time": task_runs.c.expected_start_time,
            "subflow_runs": _has_subflow_runs,
            "flow_run_id": _task_flow_run_matches,
        },
    )


def _has_subflow_runs(flt: TaskRunFilterSubFlowRuns) -> Clause:
    if flt.exists_ is None:
        return sa.true()
    parents = sa.select(flow_runs.c.parent_task_run_id).where(
        flow_runs.c.parent_task_run_id.is_not(None)
    )
    has = task_runs.c.id.in_(parents)
    return has if flt.exists_ else sa.not_(has)


def _task_flow_run_matches(flt: TaskRunFilterFlowRunId) -> Clause:
    # `is_null_` defaults to false, which means "has a flow run" only when no
    # ids are listed. With ids, the list alone decides.
    if flt.is_null_ is True:
        return task_runs.c.flow_run_id.is_(None)
    if flt.any_ is not None:
        return task_runs.c.flow_run_id.in_(flt.any_)
    if flt.is_null_ is False:
        return task_runs.c.flow_run_id.is_not(None)
    return sa.true()


def _runs_in_work_pools(work_pools: WorkPoolFilter) -> Clause:
    queues = (
        sa.select(work_queues_table.c.id)
        .join(
            work_pools_table, work_pools_table.c.id == work_queues_table.c.work_pool_id
        )
        .where(work_pool_criteria(work_pools))
    )
    return flow_runs.c.work_queue_id.in_(queues)


def _runs_in_work_queues(work_queues: WorkQueueFilter) -> Clause:
    queues = sa.select(work_queues_table.c.id).where(work_queue_criteria(work_queues))
    return flow_runs.c.work_queue_id.in_(queues)


def flow_runs_where(
    flow_runs_filter: FlowRunFilter | None = None,
    flows_filter: FlowFilter | None = None,
    task_runs_filter: TaskRunFilter | None = None,
    deployments: DeploymentFilter | None = None,
    work_pools: WorkPoolFilter | None = None,
    work_queues: WorkQueueFilter | None = None,
) -> Clause:
    """Return the clause on `flow_runs` for every filter body of a request."""
    clauses = [flow_run_criteria(flow_runs_filter)]
    if not _is_empty(flows_filter):
        matching_flows = sa.select(flows.c.id).where(flow_criteria(flows_filter))
        clauses.append(flow_runs.c.flow_id.in_(matching_flows))
    if not _is_empty(task_runs_filter):
        with_tasks = sa.select(task_runs.c.flow_run_id).where(
            task_run_criteria(task_runs_filter)
        )
        clauses.append(flow_runs.c.id.in_(with_tasks))
    if not _is_empty(deployments):
        matching = sa.select(deployments_table.c.id).where(
            deployment_criteria(deployments)
        )
        clauses.append(flow_runs.c.deployment_id.in_(matching))
    if not _is_empty(work_pools):
        assert work_pools is not None
        clauses.append(_runs_in_work_pools(work_pools))
    if not _is_empty(work_queues):
        assert work_queues is not None
        clauses.append(_runs_in_work_queues(work_queues))
    return sa.and_(*clauses)


def task_runs_where(
    task_runs_filter: TaskRunFilter | None = None,
    flow_runs_filter: FlowRunFilter | None = None,
    flows_filter: FlowFilter | None = None,
    deployments: DeploymentFilter | None = None,
) -> Clause:
    """Return the clause on `task_runs` for every filter body of a request."""
    clauses = [task_run_criteria(task_runs_filter)]
    if not all(map(_is_empty, (flow_runs_filter, flows_filter, deployments))):
        parent_runs = sa.select(flow_runs.c.id).where(
            flow_runs_where(flow_runs_filter, flows_filter, deployments=deployments)
        )
        clauses.append(task_runs.c.flow_run_id.in_(parent_runs))
    return sa.and_(*clauses)


def flows_related_where(
    flow_runs_filter: FlowRunFilter | None = None,
    task_runs_filter: TaskRunFilter | None = None,
    deployments: DeploymentFilter | None = None,
    work_pools: WorkPoolFilter | None = None,
) -> Clause:
    """Return the clause on `flows` for filters on their runs and deployments."""
    clauses: list[Clause] = []
    if not (_is_empty(flow_runs_filter) and _is_empty(task_runs_filter)):
        runs = sa.select(flow_runs.c.flow_id).where(
            flow_runs_where(flow_runs_filter, None, task_runs_filter)
        )
        clauses.append(flows.c.id.in_(runs))
    if not _is_empty(deployments):
        matching = sa.select(deployments_table.c.flow_id).where(
            deployment_criteria(deployments)
        )
        clauses.append(flows.c.id.in_(matching))
    if not _is_empty(work_pools):
        assert work_pools is not None
        pool_queues = (
            sa.select(work_queues_table.c.id)
            .join(
                work_pools_table,
                work_pools_table.c.id == work_queues_table.c.work_pool_id,
            )
            .where(work_pool_criteria(work_pools))
        )
        deployed = sa.select(deployments_table.c.flow_id).where(
            deployments_table.c.work_queue_id.in_(pool_queues)
        )
        clauses.append(flows.c.id.in_(deployed))
    return sa.and_(sa.true(), *clauses)
