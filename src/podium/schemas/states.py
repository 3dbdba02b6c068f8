"""Wire models for run states and orchestration results."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, field_validator

from podium.orchestration.context import SetStateStatus, StateType
from podium.schemas.base import ActionModel, PodiumModel

__all__ = [
    "OrchestrationResult",
    "SetStateStatus",
    "State",
    "StateAbortDetails",
    "StateAcceptDetails",
    "StateCreate",
    "StateDetails",
    "StateRejectDetails",
    "StateType",
    "StateWaitDetails",
    "default_state_name",
]


def default_state_name(state_type: StateType) -> str:
    """Return the display name of a state type, such as `Running` for RUNNING."""
    return state_type.value.capitalize()


class StateDetails(PodiumModel):
    """Metadata of a state. Unknown keys from newer clients are dropped."""

    flow_run_id: UUID | None = None
    task_run_id: UUID | None = None
    child_flow_run_id: UUID | None = None
    scheduled_time: dt.datetime | None = None
    cache_key: str | None = None
    cache_expiration: dt.datetime | None = None
    deferred: bool | None = False
    untrackable_result: bool = False
    pause_timeout: dt.datetime | None = None
    pause_reschedule: bool = False
    pause_key: str | None = None
    run_input_keyset: dict[str, str] | None = None
    refresh_cache: bool | None = None
    retriable: bool | None = None
    transition_id: UUID | None = None
    task_parameters_id: UUID | None = None
    traceparent: str | None = None
    deployment_concurrency_lease_id: UUID | None = None

    @field_validator("scheduled_time", "cache_expiration", "pause_timeout")
    @classmethod
    def _assume_utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        # The details are stored as JSON, not in a timestamp column, so this
        # reads a time sent without a zone as UTC. Clients compare these
        # times with aware ones.
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=dt.UTC)


class State(PodiumModel):
    id: UUID
    type: StateType
    name: str | None = None
    timestamp: dt.datetime
    message: str | None = None
    data: Any = None
    state_details: StateDetails = Field(default_factory=StateDetails)


class StateCreate(ActionModel):
    """A state proposed by a client; the server assigns its id and timestamp."""

    type: StateType
    name: str | None = None
    message: str | None = None
    data: Any = None
    state_details: StateDetails = Field(default_factory=StateDetails)


class StateAcceptDetails(PodiumModel):
    type: Literal["accept_details"] = "accept_details"


class StateRejectDetails(PodiumModel):
    type: Literal["reject_details"] = "reject_details"
    reason: str | None = None


class StateWaitDetails(PodiumModel):
    type: Literal["wait_details"] = "wait_details"
    delay_seconds: int
    reason: str | None = None


class StateAbortDetails(PodiumModel):
    type: Literal["abort_details"] = "abort_details"
    reason: str | None = None


class OrchestrationResult(PodiumModel):
    state: State | None
    status: SetStateStatus
    details: (
        StateAcceptDetails | StateWaitDetails | StateRejectDetails | StateAbortDetails
    )


class FlowRunOrchestrationResult(OrchestrationResult):
    flow_run_id: UUID
