"""Events that the server emits when a flow run changes state.

`record_flow_run_state_change` is called inside the transaction that writes
the new state, after the flow run row is updated. It stores a
`prefect.flow-run.<State name>` event shaped as the Prefect 3.9.1 server
makes it: the flow run is the resource, and the flow, deployment, work
queue, work pool, parent task run, tags and creator are related resources.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any, Protocol
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.schemas.events import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event
from podium.storage.events import record_event
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


async def record_flow_run_state_change(
    connection: AsyncConnection,
    flow_run_id: UUID,
    initial_state: StateLike | None,
    validated_state: StateLike,
) -> None:
    """Store the event for a flow run's new state in the caller's transaction.

    The event id is the new state's id, so recording the same state twice
    stores one event. Does nothing if the flow run does not exist.
    """
    run = (
        await connection.execute(
            sa.select(flow_runs).where(flow_runs.c.id == flow_run_id)
        )
    ).first()
    if run is None:
        return
    occurred = validated_state.timestamp
    follows = None
    if (
        initial_state is not None
        and abs(occurred - initial_state.timestamp) < FOLLOWS_WINDOW
    ):
        follows = initial_state.id
    event = Event(
        occurred=occurred,
        event=f"prefect.flow-run.{validated_state.name}",
        resource={
            RESOURCE_ID: f"prefect.flow-run.{run.id}",
            RESOURCE_NAME: run.name,
            "prefect.run-count": str(run.run_count),
            "prefect.state-message": _truncated(validated_state.message),
            "prefect.state-name": validated_state.name or "",
            "prefect.state-timestamp": occurred.astimezone(dt.UTC).isoformat(),
            "prefect.state-type": _state_type(validated_state),
        },
        related=await _related_resources(connection, run),
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
    )
    await record_event(connection, event.receive())


def _related(kind: str, row: Any, **labels: str) -> dict[str, str]:
    return {
        RESOURCE_ID: f"prefect.{kind}.{row.id}",
        RESOURCE_ROLE: kind,
        RESOURCE_NAME: row.name,
        **labels,
    }


async def _row_by_id(
    connection: AsyncConnection, table: sa.Table, row_id: UUID | None
) -> Any:
    if row_id is None:
        return None
    return (
        await connection.execute(sa.select(table).where(table.c.id == row_id))
    ).first()


async def _related_resources(
    connection: AsyncConnection, run: Any
) -> list[dict[str, str]]:
    flow = await _row_by_id(connection, flows, run.flow_id)
    deployment = await _row_by_id(connection, deployments, run.deployment_id)
    work_queue = await _row_by_id(connection, work_queues, run.work_queue_id)
    work_pool = await _row_by_id(
        connection,
        work_pools,
        work_queue.work_pool_id if work_queue is not None else None,
    )
    parent = await _row_by_id(connection, task_runs, run.parent_task_run_id)

    related = []
    tags = set(run.tags or [])
    for kind, row in (
        ("flow", flow),
        ("deployment", deployment),
        ("work-queue", work_queue),
    ):
        if row is not None:
            related.append(_related(kind, row))
            tags.update(getattr(row, "tags", None) or [])
    if work_pool is not None:
        related.append(
            _related(
                "work-pool", work_pool, **{"prefect.work-pool.type": work_pool.type}
            )
        )
    if parent is not None:
        related.append(_related("task-run", parent))
        tags.update(parent.tags or [])
    related += [
        {RESOURCE_ID: f"prefect.tag.{tag}", RESOURCE_ROLE: "tag"}
        for tag in sorted(tags)
    ]
    return related + _creator(run.created_by)


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
