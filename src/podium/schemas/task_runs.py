"""Wire models for task runs."""

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

# Prefect 3.9.1 rejects more retry delays than this per task.
MAX_RETRY_DELAYS = 50


class TaskRunResult(PodiumModel):
    input_type: Literal["task_run"] = "task_run"
    id: UUID


class FlowRunResult(PodiumModel):
    input_type: Literal["flow_run"] = "flow_run"
    id: UUID


class Parameter(PodiumModel):
    input_type: Literal["parameter"] = "parameter"
    name: str


class Constant(PodiumModel):
    input_type: Literal["constant"] = "constant"
    type: str


TaskInput = TaskRunResult | FlowRunResult | Parameter | Constant


class TaskRunPolicy(PodiumModel):
    """Retry settings of a task run.

    `max_retries` and `retry_delay_seconds` are deprecated spellings of
    `retries` and `retry_delay`, copied into them when those are unset.
    """

    max_retries: int = 0
    retry_delay_seconds: float = 0
    retries: int | None = None
    retry_delay: int | float | list[int] | list[float] | None = None
    retry_jitter_factor: float | None = Field(default=None, ge=0)

    @field_validator("retry_delay")
    @classmethod
    def _limit_delays(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) > MAX_RETRY_DELAYS:
            raise ValueError(
                f"Can not configure more than {MAX_RETRY_DELAYS} retry delays per task."
            )
        return value

    @model_validator(mode="after")
    def _fill_from_deprecated(self) -> TaskRunPolicy:
        if not self.retries and self.max_retries:
            self.retries = self.max_retries
        if not self.retry_delay and self.retry_delay_seconds:
            self.retry_delay = self.retry_delay_seconds
        return self


class TaskRun(ObjectModel):
    name: str
    flow_run_id: UUID | None = None
    task_key: str
    dynamic_key: str
    cache_key: str | None = None
    cache_expiration: dt.datetime | None = None
    task_version: str | None = None
    empirical_policy: TaskRunPolicy = Field(default_factory=TaskRunPolicy)
    tags: list[str] = Field(default_factory=list)
    labels: Labels | None = None
    state_id: UUID | None = None
    task_inputs: dict[str, list[TaskInput]] = Field(default_factory=dict)
    state_type: StateType | None = None
    state_name: str | None = None
    run_count: int = 0
    flow_run_run_count: int = 0
    expected_start_time: dt.datetime | None = None
    next_scheduled_start_time: dt.datetime | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total_run_time: float = 0.0
    estimated_run_time: float = 0.0
    estimated_start_time_delta: float = 0.0
    state: State | None = None


class TaskRunCreate(ActionModel):
    id: UUID | None = None
    name: str | None = None
    flow_run_id: UUID | None = None
    task_key: str
    dynamic_key: str
    cache_key: str | None = None
    cache_expiration: dt.datetime | None = None
    task_version: str | None = None
    empirical_policy: TaskRunPolicy = Field(default_factory=TaskRunPolicy)
    tags: list[str] = Field(default_factory=list)
    labels: Labels | None = None
    task_inputs: dict[str, list[TaskInput]] = Field(default_factory=dict)
    state: StateCreate | None = None

    @field_validator("tags")
    @classmethod
    def _dedupe_tags(cls, tags: list[str]) -> list[str]:
        return unique_tags(tags)


class TaskRunUpdate(ActionModel):
    name: str | None = None


class TaskRunSort(StrEnum):
    ID_DESC = "ID_DESC"
    EXPECTED_START_TIME_ASC = "EXPECTED_START_TIME_ASC"
    EXPECTED_START_TIME_DESC = "EXPECTED_START_TIME_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    NEXT_SCHEDULED_START_TIME_ASC = "NEXT_SCHEDULED_START_TIME_ASC"
    END_TIME_DESC = "END_TIME_DESC"
    DURATION_DESC = "DURATION_DESC"
    DURATION_ASC = "DURATION_ASC"


class TaskRunFilterId(FilterModel):
    any_: list[UUID] | None = None


class TaskRunFilterName(FilterModel):
    any_: list[str] | None = None
    like_: str | None = None


class TaskRunFilterTags(OperatorFilter):
    all_: list[str] | None = None
    is_null_: bool | None = None


class TaskRunFilterStateType(FilterModel):
    any_: list[StateType] | None = None


class TaskRunFilterStateName(FilterModel):
    any_: list[str] | None = None


class TaskRunFilterState(OperatorFilter):
    type: TaskRunFilterStateType | None = None
    name: TaskRunFilterStateName | None = None


class TaskRunFilterSubFlowRuns(FilterModel):
    exists_: bool | None = None


class TaskRunFilterTimes(FilterModel):
    before_: dt.datetime | None = None
    after_: dt.datetime | None = None


class TaskRunFilterStartTime(TaskRunFilterTimes):
    is_null_: bool | None = None


class TaskRunFilterEndTime(TaskRunFilterTimes):
    is_null_: bool | None = None


class TaskRunFilterExpectedStartTime(TaskRunFilterTimes):
    pass


class TaskRunFilterFlowRunId(OperatorFilter):
    any_: list[UUID] | None = None
    # The contract defaults this to false: task runs without a flow run are
    # left out unless a filter requests them.
    is_null_: bool | None = False


class TaskRunFilter(OperatorFilter):
    id: TaskRunFilterId | None = None
    name: TaskRunFilterName | None = None
    tags: TaskRunFilterTags | None = None
    state: TaskRunFilterState | None = None
    start_time: TaskRunFilterStartTime | None = None
    end_time: TaskRunFilterEndTime | None = None
    expected_start_time: TaskRunFilterExpectedStartTime | None = None
    subflow_runs: TaskRunFilterSubFlowRuns | None = None
    flow_run_id: TaskRunFilterFlowRunId | None = None


class DependencyResult(PodiumModel):
    """A task run of a flow run with the task runs whose results it took."""

    id: UUID
    name: str
    upstream_dependencies: list[TaskRunResult]
    state: State | None
    expected_start_time: dt.datetime | None
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    total_run_time: float | None
    estimated_run_time: float | None
    untrackable_result: bool
