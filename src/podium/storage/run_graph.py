"""The graph of a flow run's task runs and subflow runs (`/flow_runs/{id}/graph-v2`),
and the older list of task run dependencies (`/flow_runs/{id}/graph`).

Each task run of the flow run is a node; a task run that launched a subflow
run is shown as that subflow run instead. A node's parents are the nodes
whose results it took as inputs, except inputs listed under `__parents__`,
which are the tasks that encapsulate it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import InvalidRequest, ObjectNotFound
from podium.schemas.task_runs import (
    DependencyResult,
    TaskInput,
    TaskRunResult,
    TaskRunSort,
)
from podium.storage import task_runs as task_runs_storage
from podium.storage.states import FLOW_RUN_TABLES, read_states
from podium.storage.tables import flow_runs, flows, task_runs

# The largest graph returned, as in the Prefect API's default.
MAX_GRAPH_NODES = 10_000

ENCAPSULATING_INPUT = "__parents__"


async def read_flow_run_graph(
    connection: AsyncConnection, flow_run_id: UUID, since: dt.datetime
) -> dict[str, Any]:
    """Return the Graph body; nodes that ended before `since` are left out."""
    run_query = sa.select(
        sa.func.coalesce(flow_runs.c.start_time, flow_runs.c.expected_start_time).label(
            "start_time"
        ),
        flow_runs.c.end_time,
    ).where(flow_runs.c.id == flow_run_id)
    run = (await connection.execute(run_query)).first()
    if run is None:
        raise ObjectNotFound(f"Flow run {flow_run_id} not found.")

    nodes = await _read_nodes(connection, flow_run_id)
    if len(nodes) > MAX_GRAPH_NODES:
        raise InvalidRequest(
            f"The graph of flow run {flow_run_id} has more than {MAX_GRAPH_NODES} nodes."
        )
    _link_nodes(nodes)

    kept = [
        node
        for node in nodes.values()
        if node["end_time"] is None or node["end_time"] >= since
    ]
    kept.sort(
        key=lambda node: (
            node["start_time"],
            node["end_time"] or dt.datetime.max.replace(tzinfo=dt.UTC),
        )
    )
    states = await read_states(connection, FLOW_RUN_TABLES, flow_run_id)
    return {
        "start_time": run.start_time,
        "end_time": run.end_time,
        "root_node_ids": [node["id"] for node in kept if not node["parents"]],
        "nodes": [[node["id"], _public(node)] for node in kept],
        # TODO: attach artifacts once they are stored.
        "artifacts": [],
        "states": [
            {"id": s.id, "name": s.name, "timestamp": s.timestamp, "type": s.type}
            for s in states
        ],
    }


async def _read_nodes(
    connection: AsyncConnection, flow_run_id: UUID
) -> dict[UUID, dict[str, Any]]:
    subflows = flow_runs.alias("subflow")
    query = (
        sa.select(
            task_runs.c.id.label("task_run_id"),
            task_runs.c.name,
            task_runs.c.state_type,
            task_runs.c.start_time,
            task_runs.c.expected_start_time,
            task_runs.c.end_time,
            task_runs.c.task_inputs,
            subflows.c.id.label("subflow_id"),
            subflows.c.name.label("subflow_name"),
            subflows.c.state_type.label("subflow_state_type"),
            subflows.c.start_time.label("subflow_start_time"),
            subflows.c.expected_start_time.label("subflow_expected_start_time"),
            subflows.c.end_time.label("subflow_end_time"),
            flows.c.name.label("flow_name"),
        )
        .select_from(
            task_runs.outerjoin(
                subflows, subflows.c.parent_task_run_id == task_runs.c.id
            ).outerjoin(flows, flows.c.id == subflows.c.flow_id)
        )
        .where(task_runs.c.flow_run_id == flow_run_id)
        .limit(MAX_GRAPH_NODES + 1)
    )
    nodes: dict[UUID, dict[str, Any]] = {}
    for row in (await connection.execute(query)).mappings():
        node = _node(row)
        if node["start_time"] is not None:
            nodes[node["id"]] = node
    return nodes


def _node(row: Any) -> dict[str, Any]:
    if row["subflow_id"] is not None:
        return {
            "kind": "flow-run",
            "id": row["subflow_id"],
            "label": f"{row['flow_name']} / {row['subflow_name']}",
            "state_type": row["subflow_state_type"],
            "start_time": row["subflow_start_time"]
            or row["subflow_expected_start_time"],
            "end_time": row["subflow_end_time"],
            "inputs": row["task_inputs"] or {},
        }
    end_time = row["end_time"]
    if end_time is None and row["state_type"] == "COMPLETED":
        end_time = row["expected_start_time"]
    return {
        "kind": "task-run",
        "id": row["task_run_id"],
        "label": row["name"],
        "state_type": row["state_type"],
        "start_time": row["start_time"] or row["expected_start_time"],
        "end_time": end_time,
        "inputs": row["task_inputs"] or {},
    }


def _link_nodes(nodes: dict[UUID, dict[str, Any]]) -> None:
    parents: dict[UUID, list[UUID]] = defaultdict(list)
    children: dict[UUID, list[UUID]] = defaultdict(list)
    encapsulating: dict[UUID, list[UUID]] = defaultdict(list)
    for node_id, node in nodes.items():
        for key, inputs in node["inputs"].items():
            for item in inputs:
                upstream = _input_node_id(item)
                if upstream is None or upstream not in nodes:
                    continue
                if key == ENCAPSULATING_INPUT:
                    encapsulating[node_id].append(upstream)
                else:
                    parents[node_id].append(upstream)
                    children[upstream].append(node_id)
    for node_id, node in nodes.items():
        node["parents"] = [{"id": i} for i in dict.fromkeys(parents[node_id])]
        node["children"] = [{"id": i} for i in dict.fromkeys(children[node_id])]
        node["encapsulating"] = [
            {"id": i} for i in dict.fromkeys(encapsulating[node_id])
        ]


def _input_node_id(item: Any) -> UUID | None:
    if not isinstance(item, dict) or "id" not in item:
        return None
    try:
        return UUID(str(item["id"]))
    except ValueError:
        return None


def _public(node: dict[str, Any]) -> dict[str, Any]:
    fields = ("kind", "id", "label", "state_type", "start_time", "end_time")
    body = {key: node[key] for key in fields}
    body.update(
        parents=node["parents"],
        children=node["children"],
        encapsulating=node["encapsulating"],
        artifacts=[],
    )
    return body


async def read_task_run_dependencies(
    connection: AsyncConnection, flow_run_id: UUID
) -> list[DependencyResult]:
    """Return each task run of the flow run with its upstream task runs
    (`/flow_runs/{id}/graph`, the first graph version)."""
    found = await connection.execute(
        sa.select(flow_runs.c.id).where(flow_runs.c.id == flow_run_id)
    )
    if found.first() is None:
        raise ObjectNotFound(f"Flow run {flow_run_id} not found.")

    runs = await task_runs_storage.read_task_runs(
        connection,
        task_runs.c.flow_run_id == flow_run_id,
        TaskRunSort.EXPECTED_START_TIME_ASC,
    )
    return [
        DependencyResult(
            id=run.id,
            name=run.name,
            upstream_dependencies=_upstream_task_runs(run.task_inputs),
            state=run.state,
            expected_start_time=run.expected_start_time,
            start_time=run.start_time,
            end_time=run.end_time,
            total_run_time=run.total_run_time,
            estimated_run_time=run.estimated_run_time,
            untrackable_result=bool(
                run.state is not None and run.state.state_details.untrackable_result
            ),
        )
        for run in runs
    ]


def _upstream_task_runs(task_inputs: dict[str, list[TaskInput]]) -> list[TaskRunResult]:
    # NOTE: only task run inputs are listed, each once. Prefect 3.9.1 puts
    # every input kind here, which its response model then cannot serialise.
    upstream_ids = (
        item.id
        for inputs in task_inputs.values()
        for item in inputs
        if isinstance(item, TaskRunResult)
    )
    return [
        TaskRunResult(id=task_run_id) for task_run_id in dict.fromkeys(upstream_ids)
    ]
