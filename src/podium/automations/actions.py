"""Carry out the actions of automations that fired.

Each action runs in its own write transaction, together with the
`prefect.automation.action.triggered` and `...executed` events it records.
An action that cannot run records `...failed` with the reason instead, and
its partial writes are rolled back. Podium never calls other hosts, so
`send-notification` and `call-webhook` are recorded as failed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from podium.automations.automation_events import TriggeredAction, action_events
from podium.errors import PodiumError
from podium.schemas.automations import AutomationPartialUpdate
from podium.schemas.deployments import DeploymentFlowRunCreate
from podium.schemas.events import (
    RESOURCE_ID,
    RESOURCE_NAME,
    RESOURCE_ROLE,
    ReceivedEvent,
)
from podium.schemas.states import (
    OrchestrationResult,
    StateCreate,
    StateDetails,
    StateType,
)
from podium.schemas.work_pools import WorkPoolUpdate
from podium.schemas.work_queues import WorkQueueUpdate
from podium.storage import automations as automation_storage
from podium.storage import deployments, flow_runs, work_pools, work_queues
from podium.storage.database import Database
from podium.storage.events import record_event

logger = logging.getLogger(__name__)

# How long a flow run suspended by an automation waits before it times out.
SUSPEND_TIMEOUT = dt.timedelta(hours=1)


class ActionFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ActionResult:
    """What an action did: resources it touched, details and a failure reason."""

    related: list[dict[str, str]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def target(self, kind: str, object_id: UUID, role: str = "target") -> None:
        self.related.append({RESOURCE_ID: f"{kind}.{object_id}", RESOURCE_ROLE: role})


Handler = Callable[[AsyncConnection, TriggeredAction, ActionResult], Awaitable[None]]


async def perform(database: Database, triggered: TriggeredAction) -> None:
    """Run one triggered action and record its outcome as events."""
    result = ActionResult()
    handler = HANDLERS[triggered.action.type]
    try:
        async with database.transaction() as connection:
            await handler(connection, triggered, result)
            await _record(connection, triggered, result)
    except (ActionFailed, PodiumError) as error:
        result.reason = (
            error.reason if isinstance(error, ActionFailed) else error.detail
        )
        async with database.transaction() as connection:
            await _record(connection, triggered, result)
    if result.reason is not None:
        logger.warning(
            "Action %d (%s) of automation %s failed: %s",
            triggered.action_index,
            triggered.action.type,
            triggered.automation.id,
            result.reason,
        )


async def _record(
    connection: AsyncConnection, triggered: TriggeredAction, result: ActionResult
) -> None:
    for event in action_events(
        triggered, result.related, result.details, result.reason
    ):
        await record_event(connection, event.receive())


# Finding the target -------------------------------------------------------------


def _id_of_kind(resource_id: str, kind: str) -> UUID | None:
    prefix, _, suffix = resource_id.rpartition(".")
    if prefix != kind:
        return None
    try:
        return UUID(suffix)
    except ValueError:
        return None


def _first_id_of_kind(event: ReceivedEvent | None, kind: str) -> UUID | None:
    if event is None:
        return None
    for resource in (event.resource, *event.related):
        found = _id_of_kind(resource[RESOURCE_ID], kind)
        if found is not None:
            return found
    return None


def _target_id(
    triggered: TriggeredAction, selected: UUID | None, kind: str, noun: str
) -> UUID:
    if triggered.action.source == "selected" and selected is not None:
        return selected
    if triggered.triggering_event is None:
        raise ActionFailed(f"No event to infer the {noun}")
    found = _first_id_of_kind(triggered.triggering_event, kind)
    if found is None:
        raise ActionFailed(f"No {noun} could be inferred")
    return found


def _flow_run_id(triggered: TriggeredAction) -> UUID:
    # Proactive firings have no event but may count per flow run.
    labelled = triggered.triggering_labels.get(RESOURCE_ID)
    if labelled and (found := _id_of_kind(labelled, "prefect.flow-run")):
        return found
    found = _first_id_of_kind(triggered.triggering_event, "prefect.flow-run")
    if found is None:
        raise ActionFailed("No flow run could be inferred")
    return found


def _check_accepted(
    result: ActionResult, outcome: OrchestrationResult, written: bool
) -> None:
    result.details["status_code"] = 201 if written else 200
    if outcome.details.type != "accept_details":
        reason = getattr(outcome.details, "reason", None)
        result.reason = f"Failed to set state: {reason}"


# Handlers -------------------------------------------------------------------------


async def _do_nothing(
    connection: AsyncConnection, triggered: TriggeredAction, result: ActionResult
) -> None:
    logger.debug("Automation %s did nothing, as asked.", triggered.automation.id)


async def _run_deployment(
    connection: AsyncConnection, triggered: TriggeredAction, result: ActionResult
) -> None:
    action = triggered.action
    deployment_id = _target_id(
        triggered, action.deployment_id, "prefect.deployment", "deployment"
    )
    result.target("prefect.deployment", deployment_id)
    now = dt.datetime.now(dt.UTC)
    # TODO: render Jinja templates and `__prefect_kind` placeholders in the
    # parameters once a template engine is a dependency; they pass through as sent.
    request = DeploymentFlowRunCreate(
        state=StateCreate(
            type=StateType.SCHEDULED,
            state_details=StateDetails(scheduled_time=now + action.schedule_after),
        ),
        parameters=action.parameters or {},
        idempotency_key=triggered.idempotency_key(),
        job_variables=action.job_variables,
    )
    automation = triggered.automation
    created_by = {
        "id": str(automation.id),
        "type": "AUTOMATION",
        "display_value": automation.name,
    }
    flow_run, _ = await deployments.create_flow_run(
        connection, deployment_id, request, now, created_by=created_by
    )
    result.details["status_code"] = 201
    result.related.append(
        {
            RESOURCE_ID: f"prefect.flow-run.{flow_run.id}",
            RESOURCE_ROLE: "flow-run",
            RESOURCE_NAME: flow_run.name,
        }
    )
    logger.info(
        "Automation %s created flow run %s of deployment %s.",
        automation.id,
        flow_run.id,
        deployment_id,
    )


def _deployment_pauser(paused: bool) -> Handler:
    async def handle(
        connection: AsyncConnection, triggered: TriggeredAction, result: ActionResult
    ) -> None:
        action = triggered.action
        deployment_id = _target_id(
            triggered, action.deployment_id, "prefect.deployment", "deployment"
        )
        result.target("prefect.deployment", deployment_id)
        await deployments.read_deployment(connection, deployment_id)
        await deployments.set_paused(
            connection, deployment_id, paused, dt.datetime.now(dt.UTC)
        )

    return handle


async def _set_flow_run_state(
    connection: AsyncConnection,
    triggered: TriggeredAction,
    result: ActionResult,
    state: StateCreate,
    force: bool = False,
) -> None:
    flow_run_id = _flow_run_id(triggered)
    result.target("prefect.flow-run", flow_run_id)
    outcome, written = await flow_runs.set_flow_run_state(
        connection, flow_run_id, state, force
    )
    _check_accepted(result, outcome, written)


async def _change_flow_run_state(
    connection: AsyncConnection, triggered: TriggeredAction, result: ActionResult
) -> None:
    action = triggered.action
    message = action.message or f"State changed by Automation {triggered.automation.id}"
    state = StateCreate(type=action.state, name=action.name, message=message)
    await _set_flow_run_state(connection, triggered, result, state, action.force)


async def _cancel_flow_run(
    connection: AsyncConnection, triggered: TriggeredAction, result: ActionResult
) -> None:
    message = f"Cancelled by Automation {triggered.automation.id}"
    state = StateCreate(type=StateType.CANCELLING, message=message)
    await _set_flow_run_state(connection, triggered, result, state)


async def _suspend_flow_run(
    connection: AsyncConnection, triggered: TriggeredAction, result: ActionResult
) -> None:
    details = StateDetails(
        pause_timeout=dt.datetime.now(dt.UTC) + SUSPEND_TIMEOUT,
        pause_reschedule=True,
    )
    state = StateCreate(
        type=StateType.PAUSED,
        name="Suspended",
        message=f"Suspended by Automation {triggered.automation.id}",
        state_details=details,
    )
    await _set_flow_run_state(connection, triggered, result, state)


async def _resume_flow_run(
    connection: AsyncConnection, triggered: TriggeredAction, result: ActionResult
) -> None:
    flow_run_id = _flow_run_id(triggered)
    result.target("prefect.flow-run", flow_run_id)
    outcome, written = await flow_runs.resume_flow_run(connection, flow_run_id, None)
    _check_accepted(result, outcome, written)


async def _delete_flow_run(
    connection: AsyncConnection, triggered: TriggeredAction, result: ActionResult
) -> None:
    flow_run_id = _flow_run_id(triggered)
    result.target("prefect.flow-run", flow_run_id)
    await flow_runs.delete_flow_run(connection, flow_run_id)


def _work_pool_pauser(paused: bool) -> Handler:
    async def handle(
        connection: AsyncConnection, triggered: TriggeredAction, result: ActionResult
    ) -> None:
        action = triggered.action
        pool_id = _target_id(
            triggered, action.work_pool_id, "prefect.work-pool", "work pool"
        )
        result.target("prefect.work-pool", pool_id)
        pool = await work_pools.read_work_pool(connection, pool_id)
        await work_pools.update_work_pool(
            connection, pool.name, WorkPoolUpdate(is_paused=paused)
        )

    return handle


def _work_queue_pauser(paused: bool) -> Handler:
    async def handle(
        connection: AsyncConnection, triggered: TriggeredAction, result: ActionResult
    ) -> None:
        action = triggered.action
        queue_id = _target_id(
            triggered, action.work_queue_id, "prefect.work-queue", "work queue"
        )
        result.target("prefect.work-queue", queue_id)
        await work_queues.update_work_queue(
            connection, queue_id, WorkQueueUpdate(is_paused=paused)
        )

    return handle


def _automation_pauser(paused: bool) -> Handler:
    async def handle(
        connection: AsyncConnection, triggered: TriggeredAction, result: ActionResult
    ) -> None:
        action = triggered.action
        automation_id = _target_id(
            triggered, action.automation_id, "prefect.automation", "automation"
        )
        result.target("prefect.automation", automation_id)
        await automation_storage.set_automation_enabled(
            connection, automation_id, AutomationPartialUpdate(enabled=not paused)
        )

    return handle


async def _not_sent(
    connection: AsyncConnection, triggered: TriggeredAction, result: ActionResult
) -> None:
    # TODO: send notifications and call webhooks through their blocks once
    # Podium may reach other hosts; until then these actions fail visibly.
    result.target("prefect.block-document", triggered.action.block_document_id, "block")
    result.reason = (
        f"Podium does not run {triggered.action.type!r} actions yet, so nothing "
        "was sent."
    )


HANDLERS: dict[str, Handler] = {
    "do-nothing": _do_nothing,
    "run-deployment": _run_deployment,
    "pause-deployment": _deployment_pauser(True),
    "resume-deployment": _deployment_pauser(False),
    "change-flow-run-state": _change_flow_run_state,
    "cancel-flow-run": _cancel_flow_run,
    "suspend-flow-run": _suspend_flow_run,
    "resume-flow-run": _resume_flow_run,
    "delete-flow-run": _delete_flow_run,
    "pause-work-pool": _work_pool_pauser(True),
    "resume-work-pool": _work_pool_pauser(False),
    "pause-work-queue": _work_queue_pauser(True),
    "resume-work-queue": _work_queue_pauser(False),
    "pause-automation": _automation_pauser(True),
    "resume-automation": _automation_pauser(False),
    "send-notification": _not_sent,
    "call-webhook": _not_sent,
}
