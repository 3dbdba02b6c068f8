"""Wire models for deployments."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import Field, field_validator

from podium.schemas.base import (
    ActionModel,
    Labels,
    ObjectModel,
    PodiumModel,
    TaggedActionModel,
    unique_tags,
)
from podium.schemas.filtering import FilterModel, OperatorFilter
from podium.schemas.flow_runs import CreatedBy, FlowRunPolicy
from podium.schemas.schedules import (
    DeploymentSchedule,
    DeploymentScheduleCreate,
    DeploymentScheduleUpdate,
)
from podium.schemas.states import StateCreate

# Deployment names end up in URLs (`/deployments/name/{flow}/{deployment}`),
# so characters that break paths are not allowed.
NAME_PATTERN = r"^[^/%&><]+$"


class ConcurrencyLimitStrategy(StrEnum):
    ENQUEUE = "ENQUEUE"
    CANCEL_NEW = "CANCEL_NEW"


class DeploymentStatus(StrEnum):
    READY = "READY"
    NOT_READY = "NOT_READY"


class ConcurrencyOptions(PodiumModel):
    collision_strategy: ConcurrencyLimitStrategy
    grace_period_seconds: int | None = Field(default=None, ge=60, le=86400)


class VersionInfo(PodiumModel):
    type: str
    version: str


class UpdatedBy(CreatedBy):
    pass


class Deployment(ObjectModel):
    """A deployment as the API returns it (DeploymentResponse)."""

    name: str
    version: str | None = None
    description: str | None = None
    flow_id: UUID
    paused: bool = False
    schedules: list[DeploymentSchedule] = Field(default_factory=list)
    concurrency_limit: int | None = None
    # The full limit object is owned by the concurrency limits API.
    global_concurrency_limit: dict[str, Any] | None = None
    concurrency_options: ConcurrencyOptions | None = None
    job_variables: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    labels: Labels = Field(default_factory=dict)
    work_queue_name: str | None = None
    work_queue_id: UUID | None = None
    last_polled: dt.datetime | None = None
    parameter_openapi_schema: dict[str, Any] | None = None
    path: str | None = None
    pull_steps: list[dict[str, Any]] | None = None
    entrypoint: str | None = None
    storage_document_id: UUID | None = None
    infrastructure_document_id: UUID | None = None
    created_by: CreatedBy | None = None
    updated_by: UpdatedBy | None = None
    work_pool_name: str | None = None
    status: DeploymentStatus | None = DeploymentStatus.NOT_READY
    enforce_parameter_schema: bool = True

    @field_validator("labels", "job_variables", "parameters", mode="before")
    @classmethod
    def _empty_for_null(cls, value: Any) -> Any:
        return {} if value is None else value


class DeploymentCreate(TaggedActionModel):
    name: str = Field(pattern=NAME_PATTERN, examples=["my-deployment"])
    flow_id: UUID
    paused: bool = False
    schedules: list[DeploymentScheduleCreate] = Field(default_factory=list)
    concurrency_limit: int | None = Field(default=None, gt=0)
    concurrency_options: ConcurrencyOptions | None = None
    global_concurrency_limit_id: UUID | None = None
    enforce_parameter_schema: bool = True
    parameter_openapi_schema: dict[str, Any] | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    labels: Labels | None = None
    pull_steps: list[dict[str, Any]] | None = None
    work_queue_name: str | None = None
    work_pool_name: str | None = None
    storage_document_id: UUID | None = None
    infrastructure_document_id: UUID | None = None
    description: str | None = None
    path: str | None = None
    version: str | None = None
    version_info: VersionInfo | None = None
    entrypoint: str | None = None
    job_variables: dict[str, Any] = Field(default_factory=dict)


class DeploymentUpdate(ActionModel):
    version: str | None = None
    version_info: VersionInfo | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None
    paused: bool = False
    schedules: list[DeploymentScheduleUpdate] | None = None
    concurrency_limit: int | None = Field(default=None, gt=0)
    concurrency_options: ConcurrencyOptions | None = None
    global_concurrency_limit_id: UUID | None = None
    tags: list[str] | None = None
    work_queue_name: str | None = None
    work_pool_name: str | None = None
    path: str | None = None
    job_variables: dict[str, Any] | None = None
    entrypoint: str | None = None
    storage_document_id: UUID | None = None
    infrastructure_document_id: UUID | None = None
    enforce_parameter_schema: bool | None = None
    parameter_openapi_schema: dict[str, Any] | None = None
    pull_steps: list[dict[str, Any]] | None = None

    @field_validator("tags")
    @classmethod
    def _dedupe_tags(cls, tags: list[str] | None) -> list[str] | None:
        return None if tags is None else unique_tags(tags)


class DeploymentFlowRunCreate(TaggedActionModel):
    name: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    enforce_parameter_schema: bool | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    infrastructure_document_id: UUID | None = None
    empirical_policy: FlowRunPolicy = Field(default_factory=FlowRunPolicy)
    labels: Labels | None = None
    idempotency_key: str | None = None
    parent_task_run_id: UUID | None = None
    work_queue_name: str | None = None
    job_variables: dict[str, Any] | None = None
    state: StateCreate | None = None


class DeploymentSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"


class DeploymentFilterId(FilterModel):
    any_: list[UUID] | None = None
    not_any_: list[UUID] | None = None


class DeploymentFilterName(FilterModel):
    any_: list[str] | None = None
    like_: str | None = None


class DeploymentOrFlowNameFilter(FilterModel):
    like_: str | None = None


class DeploymentFilterPaused(FilterModel):
    eq_: bool | None = None


class DeploymentFilterWorkQueueName(FilterModel):
    any_: list[str] | None = None


class DeploymentFilterTags(OperatorFilter):
    all_: list[str] | None = None
    any_: list[str] | None = None
    is_null_: bool | None = None


class DeploymentFilterConcurrencyLimit(FilterModel):
    ge_: int | None = None
    le_: int | None = None
    is_null_: bool | None = None


class DeploymentFilter(OperatorFilter):
    id: DeploymentFilterId | None = None
    name: DeploymentFilterName | None = None
    flow_or_deployment_name: DeploymentOrFlowNameFilter | None = None
    paused: DeploymentFilterPaused | None = None
    tags: DeploymentFilterTags | None = None
    work_queue_name: DeploymentFilterWorkQueueName | None = None
    concurrency_limit: DeploymentFilterConcurrencyLimit | None = None


class DeploymentBulkDeleteResponse(PodiumModel):
    deleted: list[UUID] = Field(default_factory=list)
