"""Wire models for the `/ui` endpoints that the Prefect dashboard calls."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from pydantic import Field

from podium.schemas.base import PodiumModel
from podium.schemas.states import StateType
from podium.schemas.task_runs import TaskRun


class SimpleFlowRun(PodiumModel):
    """One flow run as a point of the dashboard's run history chart."""

    id: UUID
    state_type: StateType
    # The start time, or the expected start time of a run not started yet.
    timestamp: dt.datetime
    duration: float
    lateness: float


class SimpleNextFlowRun(PodiumModel):
    id: UUID
    flow_id: UUID
    name: str
    state_name: str
    state_type: StateType
    next_scheduled_start_time: dt.datetime


class CountByState(PodiumModel):
    """The number of runs in each state type."""

    COMPLETED: int = 0
    PENDING: int = 0
    RUNNING: int = 0
    FAILED: int = 0
    CANCELLED: int = 0
    CRASHED: int = 0
    PAUSED: int = 0
    CANCELLING: int = 0
    SCHEDULED: int = 0


class TaskRunCount(PodiumModel):
    """Finished task runs in one interval of the dashboard's chart."""

    completed: int = 0
    failed: int = 0


class UITaskRun(TaskRun):
    flow_run_name: str | None = None


class SchemaValuePropertyError(PodiumModel):
    property: str
    errors: list[SchemaValueError]


class SchemaValueIndexError(PodiumModel):
    index: int
    errors: list[SchemaValueError]


SchemaValueError = str | SchemaValuePropertyError | SchemaValueIndexError


class SchemaValuesValidationResponse(PodiumModel):
    errors: list[SchemaValueError] = Field(default_factory=list)
    valid: bool
