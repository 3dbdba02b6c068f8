"""Builders for event tests: plain events and client task-run state events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from uuid import UUID

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def event(
    name: str = "compat.thing.happened",
    resource_id: str = "compat.widget.1",
    occurred: dt.datetime = NOW,
    related: list[dict[str, str]] | None = None,
    payload: dict[str, Any] | None = None,
    event_id: UUID | None = None,
    follows: UUID | None = None,
    **labels: str,
) -> dict[str, Any]:
    """Return an event body as a client sends it."""
    return {
        "occurred": iso(occurred),
        "event": name,
        "resource": {"prefect.resource.id": resource_id, **labels},
        "related": related or [],
        "payload": payload or {},
        "id": str(event_id or uuid.uuid4()),
        "follows": str(follows) if follows else None,
    }


def related(resource_id: str, role: str, **labels: str) -> dict[str, str]:
    return {"prefect.resource.id": resource_id, "prefect.resource.role": role, **labels}


def task_run_event(
    task_run_id: UUID,
    flow_run_id: UUID | None,
    state_type: str,
    occurred: dt.datetime = NOW,
    state_name: str | None = None,
    follows: UUID | None = None,
    event_id: UUID | None = None,
    **task_run: Any,
) -> dict[str, Any]:
    """Return a `prefect.task-run.<State>` event shaped as Prefect 3.9.1 sends it."""
    name = state_name or state_type.capitalize()
    fields = {
        "name": "work-1a2",
        "task_key": "work-0f1e2d3c",
        "dynamic_key": "1a2b",
        "empirical_policy": {
            "max_retries": 0,
            "retry_delay_seconds": 0.0,
            "retries": 0,
        },
        "tags": [],
        "labels": {},
        "task_inputs": {},
        "run_count": 0,
        "flow_run_run_count": 0,
        "expected_start_time": iso(NOW),
        "total_run_time": 0.0,
        **task_run,
    }
    related_resources = []
    if flow_run_id is not None:
        related_resources.append(related(f"prefect.flow-run.{flow_run_id}", "flow-run"))
    return event(
        name=f"prefect.task-run.{name}",
        resource_id=f"prefect.task-run.{task_run_id}",
        occurred=occurred,
        related=related_resources,
        payload={
            "intended": {"from": None, "to": state_type},
            "initial_state": None,
            "validated_state": {
                "type": state_type,
                "name": name,
                "message": "",
                "state_details": {},
                "data": None,
            },
            "task_run": fields,
        },
        event_id=event_id,
        follows=follows,
        **{
            "prefect.resource.name": fields["name"],
            "prefect.state-type": state_type,
            "prefect.orchestration": "client",
        },
    )
