"""The events an automation records when it fires and acts. No IO happens here.

The shapes follow the Prefect 3.9.1 server: `prefect.automation.triggered`
for each firing of the automation's trigger, then, for each action,
`prefect.automation.action.triggered` followed by `...action.executed` or
`...action.failed` (with a `reason`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from podium.automations.triggers import Firing
from podium.schemas.automations import Automation, EventTrigger
from podium.schemas.events import (
    RESOURCE_ID,
    RESOURCE_NAME,
    RESOURCE_ROLE,
    Event,
    ReceivedEvent,
)

# `follows` links an action event to the triggering event only when the two
# are this close in time, as the Prefect server does.
FOLLOWS_WINDOW = dt.timedelta(minutes=5)


@dataclass
class TriggeredAction:
    """One action to carry out for one firing of an automation."""

    automation: Automation
    firing: Firing
    action: Any
    action_index: int
    triggering_event: ReceivedEvent | None
    automation_triggered_event_id: uuid.UUID | None
    triggered: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def triggering_labels(self) -> dict[str, str]:
        return self.firing.triggering_labels

    def idempotency_key(self) -> str:
        return (
            f"automation {self.automation.id}, action {self.action_index}, "
            f"invocation {self.id}"
        )


def _automation_resource(automation: Automation) -> dict[str, str]:
    return {
        RESOURCE_ID: f"prefect.automation.{automation.id}",
        RESOURCE_NAME: automation.name,
    }


def automation_triggered_event(automation: Automation, firing: Firing) -> Event:
    resource = _automation_resource(automation)
    if isinstance(automation.trigger, EventTrigger):
        resource["prefect.posture"] = automation.trigger.posture.value
    event = firing.triggering_event
    related = []
    if event is not None:
        related.append(
            {
                RESOURCE_ID: f"prefect.event.{event.id}",
                RESOURCE_ROLE: "triggering-event",
            }
        )
    return Event(
        occurred=firing.triggered,
        event="prefect.automation.triggered",
        resource=resource,
        related=related,
        payload={
            "triggering_labels": firing.triggering_labels,
            "triggering_event": event.model_dump(mode="json") if event else None,
        },
        id=uuid.uuid4(),
    )


def triggered_actions(
    automation: Automation, firing: Firing, triggered_event: Event
) -> list[TriggeredAction]:
    """List the actions one firing starts: `actions`, then `actions_on_trigger`."""
    sources: list[tuple[Any, ReceivedEvent | None]] = [
        (action, firing.triggering_event) for action in automation.actions
    ]
    received = triggered_event.receive()
    sources += [(action, received) for action in automation.actions_on_trigger]
    return [
        TriggeredAction(
            automation=automation,
            firing=firing,
            action=action,
            action_index=index,
            triggering_event=event,
            automation_triggered_event_id=triggered_event.id,
            triggered=firing.triggered,
        )
        for index, (action, event) in enumerate(sources)
    ]


def action_events(
    triggered: TriggeredAction,
    related: list[dict[str, str]],
    details: dict[str, Any],
    reason: str | None = None,
) -> list[Event]:
    """Build the `action.triggered` event and its `executed` or `failed` follower."""
    automation = triggered.automation
    resource = _automation_resource(automation)
    resource["prefect.trigger-type"] = automation.trigger.type
    if isinstance(automation.trigger, EventTrigger):
        resource["prefect.posture"] = automation.trigger.posture.value

    related = list(related)
    if triggered.automation_triggered_event_id is not None:
        related.append(
            {
                RESOURCE_ID: f"prefect.event.{triggered.automation_triggered_event_id}",
                RESOURCE_ROLE: "automation-triggered-event",
            }
        )
    follows = None
    event = triggered.triggering_event
    if event is not None:
        related.append(
            {
                RESOURCE_ID: f"prefect.event.{event.id}",
                RESOURCE_ROLE: "triggering-event",
            }
        )
        if abs(triggered.triggered - event.occurred) < FOLLOWS_WINDOW:
            follows = event.id

    payload = {
        "action_index": triggered.action_index,
        "action_type": triggered.action.type,
        "invocation": str(triggered.id),
    }
    first = Event(
        occurred=triggered.triggered,
        event="prefect.automation.action.triggered",
        resource=resource,
        related=related,
        payload=payload,
        id=uuid.uuid4(),
        follows=follows,
    )
    outcome = "executed" if reason is None else "failed"
    result = {**payload, **({} if reason is None else {"reason": reason}), **details}
    second = Event(
        occurred=dt.datetime.now(dt.UTC),
        event=f"prefect.automation.action.{outcome}",
        resource=resource,
        related=related,
        payload=result,
        id=uuid.uuid4(),
        follows=first.id,
    )
    return [first, second]
