"""Wire models for work queues, both under pools and at `/work_queues/`."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from podium.orchestration.context import StateType
from podium.schemas.base import ActionModel, ObjectModel, PodiumModel
from podium.schemas.filtering import FilterModel, OperatorFilter

# Queue and pool names appear in URL paths, so path-breaking characters are
# not allowed, as in the Prefect API.
NAME_PATTERN = r"^[^/%&><]+$"


class WorkQueueStatus(StrEnum):
    READY = "READY"
    NOT_READY = "NOT_READY"
    PAUSED = "PAUSED"


class QueueFilter(PodiumModel):
    """The deprecated tag and deployment filter of Prefect 2 work queues."""

    tags: list[str] | None = None
    deployment_ids: list[UUID] | None = None


class WorkQueueCreate(ActionModel):
    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = ""
    is_paused: bool = False
    concurrency_limit: int | None = Field(default=None, ge=0)
    priority: int | None = Field(default=None, gt=0)
    filter: QueueFilter | None = None


class WorkQueueUpdate(ActionModel):
    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    description: str | None = None
    is_paused: bool = False
    concurrency_limit: int | None = Field(default=None, ge=0)
    priority: int | None = Field(default=None, gt=0)
    last_polled: dt.datetime | None = None
    filter: QueueFilter | None = None


class WorkQueue(ObjectModel):
    """A work queue as the API returns it (WorkQueueResponse)."""

    name: str
    description: str | None = ""
    is_paused: bool = False
    concurrency_limit: int | None = None
    priority: int = 1
    work_pool_id: UUID | None = None
    filter: QueueFilter | None = None
    last_polled: dt.datetime | None = None
    work_pool_name: str | None = None
    status: WorkQueueStatus | None = None
    active_slots: int | None = None


class WorkQueueFilterId(FilterModel):
    any_: list[UUID] | None = None


class WorkQueueFilterName(FilterModel):
    any_: list[str] | None = None
    startswith_: list[str] | None = None


class WorkQueueFilter(OperatorFilter):
    id: WorkQueueFilterId | None = None
    name: WorkQueueFilterName | None = None


class WorkQueueHealthPolicy(PodiumModel):
    maximum_late_runs: int | None = 0
    maximum_seconds_since_last_polled: int | None = 60

    def is_healthy(
        self, late_runs_count: int, last_polled: dt.datetime | None, now: dt.datetime
    ) -> bool:
        """Apply the policy: few enough late runs and a recent enough poll."""
        if (
            self.maximum_late_runs is not None
            and late_runs_count > self.maximum_late_runs
        ):
            return False
        if self.maximum_seconds_since_last_polled is not None:
            if last_polled is None:
                return False
            age = (now - last_polled).total_seconds()
            if age > self.maximum_seconds_since_last_polled:
                return False
        return True


class WorkQueueStatusDetail(PodiumModel):
    healthy: bool
    late_runs_count: int = 0
    last_polled: dt.datetime | None = None
    health_check_policy: WorkQueueHealthPolicy


class FlowRunSlotSummary(PodiumModel):
    """A flow run that occupies a work pool or work queue concurrency slot."""

    id: UUID
    name: str
    state_type: StateType | None = None
    state_name: str | None = None
    start_time: dt.datetime | None = None
    state_timestamp: dt.datetime | None = None
    time_in_current_state: float | None = None


class WorkQueueConcurrencyStatus(PodiumModel):
    active_slots: int
    concurrency_limit: int | None = None
    flow_runs: list[FlowRunSlotSummary] = Field(default_factory=list)
    count: int
    limit: int
    pages: int
    page: int


class WorkQueueConcurrencyStatusDetail(PodiumModel):
    queue_id: UUID
    queue_name: str
    active_slots: int
    concurrency_limit: int | None = None
    flow_runs: list[FlowRunSlotSummary] = Field(default_factory=list)
    flow_run_count: int | None = None
