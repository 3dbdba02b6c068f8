"""Wire models for flow runs and run history."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, field_validator, model_validator

from podium.schemas.base import (
    ActionModel,
    Labels,
    ObjectModel,
    PodiumModel,
    unique_tags,
)
from podium.schemas.filtering import FilterModel, OperatorFilter
from podium.schemas.states import State, StateCreate, StateType


class FlowRunPolicy(PodiumModel):
    """Retry and pause settings of a flow run.

    `max_retries` and `retry_delay_seconds` are deprecated spellings of
    `retries` and `retry_delay`, copied into them when those are unset.
    """

    max_retries: int = 0
    retry_delay_seconds: float = 0
    retries: int | None = None
    retry_delay: int | None = None
    pause_keys: list[str] | None = Field(default_factory=list)
    resuming: bool | None = False
    retry_type: Literal["in_process", "reschedule"] | None = None

    @model_validator(mode="after")
    def _fill_from_deprecated(self) -> FlowRunPolicy:
        if not self.retries and self.max_retries:
            self.retries = self.max_retries
        if not self.retry_delay and self.retry_delay_seconds:
            self.retry_delay = int(self.retry_delay_seconds)
        return self


class CreatedBy(PodiumModel):
    id: UUID | None = None
    type: str | None = None
    display_value: str | None = None


class FlowRun(ObjectModel):
    name: str
    flow_id: UUID
    state_id: UUID | None = None
    deployment_id: UUID | None = None
    deployment_version: str | None = None
    work_queue_id: UUID | None = None
    work_queue_name: str | None = None
    flow_version: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    empirical_policy: FlowRunPolicy = Field(default_factory=FlowRunPolicy)
    tags: list[str] = Field(default_factory=list)
    labels: Labels | None = None
    parent_task_run_id: UUID | None = None
    state_type: StateType | None = None
    state_name: str | None = None
    run_count: int = 0
    expected_start_time: dt.datetime | None = None
    next_scheduled_start_time: dt.datetime | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total_run_time: float = 0.0
    estimated_run_time: float = 0.0
    estimated_start_time_delta: float = 0.0
    auto_scheduled: bool = False
    infrastructure_document_id: UUID | None = None
    infrastructure_pid: str | None = None
    created_by: CreatedBy | None = None
    work_pool_id: UUID | None = None
    work_pool_name: str | None = None
    state: State | None = None
    job_variables: dict[str, Any] | None = None


class FlowRunCreate(ActionModel):
    name: str | None = None
    flow_id: UUID
    flow_version: str | None = None
    deployment_id: UUID | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    parent_task_run_id: UUID | None = None
    infrastructure_document_id: UUID | None = None
    empirical_policy: FlowRunPolicy = Field(default_factory=FlowRunPolicy)
    tags: list[str] = Field(default_factory=list)
    labels: Labels | None = None
    idempotency_key: str | None = None
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    job_variables: dict[str, Any] | None = None
    state: StateCreate | None = None

    @field_validator("tags")
    @classmethod
    def _dedupe_tags(cls, tags: list[str]) -> list[str]:
        return unique_tags(tags)


class FlowRunUpdate(ActionModel):
    name: str | None = None
    flow_version: str | None = None
    parameters: dict[str, Any] | None = None
    empirical_policy: FlowRunPolicy | None = None
    tags: list[str] | None = None
    infrastructure_pid: str | None = None
    job_variables: dict[str, Any] | None = None


class FlowRunSort(StrEnum):
    ID_DESC = "ID_DESC"
    START_TIME_ASC = "START_TIME_ASC"
    START_TIME_DESC = "START_TIME_DESC"
    EXPECTED_START_TIME_ASC = "EXPECTED_START_TIME_ASC"
    EXPECTED_START_TIME_DESC = "EXPECTED_START_TIME_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    NEXT_SCHEDULED_START_TIME_ASC = "NEXT_SCHEDULED_START_TIME_ASC"
    END_TIME_DESC = "END_TIME_DESC"


class FlowRunFilterId(FilterModel):
    any_: list[UUID] | None = None
    not_any_: list[UUID] | None = None


class FlowRunFilterName(FilterModel):
    any_: list[str] | None = None
    like_: str | None = None


class FlowRunFilterTags(OperatorFilter):
    all_: list[str] | None = None
    any_: list[str] | None = None
    is_null_: bool | None = None


class FlowRunFilterDeploymentId(OperatorFilter):
    any_: list[UUID] | None = None
    is_null_: bool | None = None


class FlowRunFilterWorkQueueName(OperatorFilter):
    any_: list[str] | None = None
    is_null_: bool | None = None


class FlowRunFilterStateType(FilterModel):
    any_: list[StateType] | None = None
    not_any_: list[StateType] | None = None


class FlowRunFilterStateName(FilterModel):
    any_: list[str] | None = None
    not_any_: list[str] | None = None


class FlowRunFilterState(OperatorFilter):
    type: FlowRunFilterStateType | None = None
    name: FlowRunFilterStateName | None = None


class FlowRunFilterFlowVersion(FilterModel):
    any_: list[str] | None = None


class FlowRunFilterTimes(FilterModel):
    before_: dt.datetime | None = None
    after_: dt.datetime | None = None


class FlowRunFilterStartTime(FlowRunFilterTimes):
    is_null_: bool | None = None


class FlowRunFilterEndTime(FlowRunFilterTimes):
    is_null_: bool | None = None


class FlowRunFilterExpectedStartTime(FlowRunFilterTimes):
    pass


class FlowRunFilterNextScheduledStartTime(FlowRunFilterTimes):
    pass


class FlowRunFilterParentFlowRunId(OperatorFilter):
    any_: list[UUID] | None = None


class FlowRunFilterParentTaskRunId(OperatorFilter):
    any_: list[UUID] | None = None
    is_null_: bool | None = None


class FlowRunFilterIdempotencyKey(FilterModel):
    any_: list[str] | None = None
    not_any_: list[str] | None = None


class FlowRunFilterCreatedBy(OperatorFilter):
    id_: list[UUID] | None = None
    type_: list[str] | None = None
    is_null_: bool | None = None


class FlowRunFilter(OperatorFilter):
    id: FlowRunFilterId | None = None
    name: FlowRunFilterName | None = None
    tags: FlowRunFilterTags | None = None
    deployment_id: FlowRunFilterDeploymentId | None = None
    work_queue_name: FlowRunFilterWorkQueueName | None = None
    state: FlowRunFilterState | None = None
    flow_version: FlowRunFilterFlowVersion | None = None
    start_time: FlowRunFilterStartTime | None = None
    end_time: FlowRunFilterEndTime | None = None
    expected_start_time: FlowRunFilterExpectedStartTime | None = None
    next_scheduled_start_time: FlowRunFilterNextScheduledStartTime | None = None
    parent_flow_run_id: FlowRunFilterParentFlowRunId | None = None
    parent_task_run_id: FlowRunFilterParentTaskRunId | None = None
    idempotency_key: FlowRunFilterIdempotencyKey | None = None
    created_by: FlowRunFilterCreatedBy | None = None


class HistoryResponseState(PodiumModel):
    state_type: StateType
    state_name: str
    count_runs: int
    sum_estimated_run_time: float
    sum_estimated_lateness: float


class HistoryResponse(PodiumModel):
    interval_start: dt.datetime
    interval_end: dt.datetime
    states: list[HistoryResponseState]


class FlowRunBulkDeleteResponse(PodiumModel):
    deleted: list[UUID]
