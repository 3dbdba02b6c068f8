"""Events that the server emits when a flow run changes state.

`record_flow_run_state_change` is called inside the transaction that writes
the new state, after the flow run row is updated. It records (after the
commit, in an API process; see `record_event_soon`) a
`prefect.flow-run.<State name>` event shaped as the Prefect 3.9.1 server
makes it: the flow run is the resource, and the flow, deployment, work
queue, work pool, parent task run, tags and creator are related resources.
Set_state reads the names of those related rows in the query that loads the
flow run (`with_event_context`), so the event costs no extra read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import Enum
from typing import Any, Protocol
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.schemas.events import (
    RESOURCE_ID,
    RESOURCE_NAME,
    RESOURCE_ROLE,
    ReceivedEvent,
)
from podium.storage.events import record_event_soon
from podium.storage.tables import flow_runs, flows, task_runs
from podium.storage.tables.deployments import deployments
from podium.storage.tables.work_pools import work_pools, work_queues

# State messages can carry large tracebacks; events keep this many characters.
MAX_STATE_MESSAGE = 100_000

# `follows` links two state events only when they are this close in time;
# further apart, their order is clear without it.
FOLLOWS_WINDOW = dt.timedelta(minutes=5)


class StateLike(Protocol):
    """The state fields an event needs (a `State` or a `StateSnapshot`)."""

    id: UUID
    type: Any
    name: str | None
    timestamp: dt.datetime
    message: str | None
    state_details: Any


def _state_type(state: StateLike) -> str:
    return state.type.value if isinstance(state.type, Enum) else str(state.type)


def _truncated(message: str | None) -> str:
    message = message or ""
    return (
        message
        if len(message) <= MAX_STATE_MESSAGE
        else message[:MAX_STATE_MESSAGE] + "..."
    )


def state_payload(state: StateLike | None) -> dict[str, str] | None:
    """Return the short form of a state that state-change events carry."""
    if state is None:
        return None
    payload = {"type": _state_type(state)}
    if state.name:
        payload["name"] = state.name
    if state.message:
        payload["message"] = _truncated(state.message)
    if payload["type"] == "PAUSED":
        details = state.state_details
        reschedule = (
            details.get("pause_reschedule")
            if isinstance(details, dict)
            else getattr(details, "pause_reschedule", False)
        )
        payload["pause_reschedule"] = str(bool(reschedule)).lower()
    return payload


# The related rows an event names, read in the same query as the flow run.
# Each label is EVENT_CONTEXT_PREFIX + "<resource>_<column>".
EVENT_CONTEXT_PREFIX = "event__"

_parent_task_runs = task_runs.alias("event_parent_task_runs")

_CONTEXT_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    "flow_id": flows.c.id,
    "flow_name": flows.c.name,
    "flow_tags": flows.c.tags,
    "deployment_id": deployments.c.id,
    "deployment_name": deployments.c.name,
    "deployment_tags": deployments.c.tags,
    "work_queue_id": work_queues.c.id,
    "work_queue_name": work_queues.c.name,
    "work_pool_id": work_pools.c.id,
    "work_pool_name": work_pools.c.name,
    "work_pool_type": work_pools.c.type,
    "parent_id": _parent_task_runs.c.id,
    "parent_name": _parent_task_runs.c.name,
    "parent_tags": _parent_task_runs.c.tags,
}


def event_context_columns() -> list[sa.Label[Any]]:
    """Return the labelled columns that `with_event_context` joins in."""
    return [
        column.label(EVENT_CONTEXT_PREFIX + key)
        for key, column in _CONTEXT_COLUMNS.items()
    ]


def with_event_context(runs: sa.FromClause) -> sa.FromClause:
    """Outer-join a FROM clause that contains `flow_runs` to the rows its
    state-change events name: flow, deployment, work queue and pool, and
    parent task run."""
    return (
        runs.outerjoin(flows, flows.c.id == flow_runs.c.flow_id)
        .outerjoin(deployments, deployments.c.id == flow_runs.c.deployment_id)
        .outerjoin(work_queues, work_queues.c.id == flow_runs.c.work_queue_id)
        .outerjoin(work_pools, work_pools.c.id == work_queues.c.work_pool_id)
        .outerjoin(
            _parent_task_runs,
            _parent_task_runs.c.id == flow_runs.c.parent_task_run_id,
        )
    )


_SELECT_RUN_WITH_CONTEXT = (
    sa.select(flow_runs, *event_context_columns())
    .select_from(with_event_context(flow_runs))
    .where(flow_runs.c.id == sa.bindparam("flow_run_id"))
)


async def record_flow_run_state_change(
    connection: AsyncConnection,
    flow_run_id: UUID,
    initial_state: StateLike | None,
    validated_state: StateLike,
    run: Mapping[str, Any] | None = None,
) -> None:
    """Record the event for a flow run's new state once the transaction commits.

    `run` is the flow run's row as it is after the transition, with the
    `event_context_columns`; without it the row is read here. The event id
    is the new state's id, so recording the same state twice stores one
    event. Does nothing if the flow run does not exist.
    """
    if run is None:
        result = await connection.execute(
            _SELECT_RUN_WITH_CONTEXT, {"flow_run_id": flow_run_id}
        )
        row = result.mappings().first()
        if row is None:
            return
        run = row
    event = state_change_event(run, initial_state, validated_state)
    await record_event_soon(connection, event)


def state_change_event(
    run: Mapping[str, Any],
    initial_state: StateLike | None,
    validated_state: StateLike,
    received: dt.datetime | None = None,
) -> ReceivedEvent:
    """Build the `prefect.flow-run.<State name>` event for a flow run's row."""
    occurred = validated_state.timestamp
    follows = None
    if (
        initial_state is not None
        and abs(occurred - initial_state.timestamp) < FOLLOWS_WINDOW
    ):
        follows = initial_state.id
    return ReceivedEvent(
        occurred=occurred,
        event=f"prefect.flow-run.{validated_state.name}",
        resource={
            RESOURCE_ID: f"prefect.flow-run.{run['id']}",
            RESOURCE_NAME: run["name"],
            "prefect.run-count": str(run["run_count"]),
            "prefect.state-message": _truncated(validated_state.message),
            "prefect.state-name": validated_state.name or "",
            "prefect.state-timestamp": occurred.astimezone(dt.UTC).isoformat(),
            "prefect.state-type": _state_type(validated_state),
        },
        related=_related_resources(run),
        payload={
            "intended": {
                "from": _state_type(initial_state)
                if initial_state is not None
                else None,
                "to": _state_type(validated_state),
            },
            "initial_state": state_payload(initial_state),
            "validated_state": state_payload(validated_state),
        },
        id=validated_state.id,
        follows=follows,
        received=received or dt.datetime.now(dt.UTC),
    )


def _related(
    run: Mapping[str, Any], key: str, kind: str, **labels: str
) -> dict[str, str] | None:
    row_id = run[f"{EVENT_CONTEXT_PREFIX}{key}_id"]
    if row_id is None:
        return None
    return {
        RESOURCE_ID: f"prefect.{kind}.{row_id}",
        RESOURCE_ROLE: kind,
        RESOURCE_NAME: run[f"{EVENT_CONTEXT_PREFIX}{key}_name"],
        **labels,
    }


def _related_resources(run: Mapping[str, Any]) -> list[dict[str, str]]:
    related = []
    tags = set(run["tags"] or [])
    for key, kind in (
        ("flow", "flow"),
        ("deployment", "deployment"),
        ("work_queue", "work-queue"),
    ):
        resource = _related(run, key, kind)
        if resource is not None:
            related.append(resource)
            tags.update(run.get(f"{EVENT_CONTEXT_PREFIX}{key}_tags") or [])
    pool_type = run[f"{EVENT_CONTEXT_PREFIX}work_pool_type"]
    work_pool = _related(
        run, "work_pool", "work-pool", **{"prefect.work-pool.type": pool_type}
    )
    if work_pool is not None:
        related.append(work_pool)
    parent = _related(run, "parent", "task-run")
    if parent is not None:
        related.append(parent)
        tags.update(run[f"{EVENT_CONTEXT_PREFIX}parent_tags"] or [])
    related += [
        {RESOURCE_ID: f"prefect.tag.{tag}", RESOURCE_ROLE: "tag"}
        for tag in sorted(tags)
    ]
    return related + _creator(run["created_by"])


def _creator(created_by: dict[str, Any] | None) -> list[dict[str, str]]:
    """Name the deployment or automation that created the run, if any."""
    kinds = {"DEPLOYMENT": "deployment", "AUTOMATION": "automation"}
    if (
        not created_by
        or created_by.get("type") not in kinds
        or not created_by.get("id")
    ):
        return []
    creator = {
        RESOURCE_ID: f"prefect.{kinds[created_by['type']]}.{created_by['id']}",
        RESOURCE_ROLE: "creator",
    }
    if created_by.get("display_value"):
        creator[RESOURCE_NAME] = created_by["display_value"]
    return [creator]
