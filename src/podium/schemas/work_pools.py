"""Wire models for work pools."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import Field, field_validator

from podium.schemas.base import ActionModel, ObjectModel, PodiumModel
from podium.schemas.filtering import FilterModel, OperatorFilter
from podium.schemas.work_queues import NAME_PATTERN, WorkQueueConcurrencyStatusDetail

# `{{ name }}` placeholders in a job configuration, as Prefect's templating
# finds them: word characters, dots, dashes, brackets and `$`.
PLACEHOLDER = re.compile(r"{{\s*([\w\.\-\[\]$]+)\s*}}")


class WorkPoolStatus(StrEnum):
    READY = "READY"
    NOT_READY = "NOT_READY"
    PAUSED = "PAUSED"


class WorkPoolStorageConfiguration(ActionModel):
    bundle_upload_step: dict[str, Any] | None = None
    bundle_execution_step: dict[str, Any] | None = None
    default_result_storage_block_id: UUID | None = None


def check_base_job_template(template: dict[str, Any]) -> dict[str, Any]:
    """Check that every job-configuration placeholder is a declared variable.

    An empty template is allowed. Any other must have both `job_configuration`
    and `variables`, as in the Prefect API.
    """
    if template == {}:
        return template
    job_configuration = template.get("job_configuration")
    variables = template.get("variables")
    if not job_configuration or not variables:
        raise ValueError(
            "The base_job_template must contain both a `job_configuration` key "
            "and a `variables` key."
        )
    if not isinstance(job_configuration, dict) or not isinstance(variables, dict):
        raise ValueError(
            "The base_job_template's `job_configuration` and `variables` must be objects."
        )
    used = set(PLACEHOLDER.findall(json.dumps(job_configuration)))
    declared = set((variables.get("properties") or {}).keys())
    missing = sorted(used - declared)
    if missing:
        raise ValueError(
            "The job configuration uses variables that the variables schema does "
            f"not declare as properties: {', '.join(missing)}."
        )
    return template


class WorkPoolCreate(ActionModel):
    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    type: str = "prefect-agent"
    base_job_template: dict[str, Any] = Field(default_factory=dict)
    is_paused: bool = False
    concurrency_limit: int | None = Field(default=None, ge=0)
    storage_configuration: WorkPoolStorageConfiguration = Field(
        default_factory=WorkPoolStorageConfiguration
    )

    _check_template = field_validator("base_job_template")(check_base_job_template)


class WorkPoolUpdate(ActionModel):
    description: str | None = None
    is_paused: bool | None = None
    base_job_template: dict[str, Any] | None = None
    concurrency_limit: int | None = Field(default=None, ge=0)
    storage_configuration: WorkPoolStorageConfiguration | None = None

    @field_validator("base_job_template")
    @classmethod
    def _check_template(cls, template: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if template is None else check_base_job_template(template)


class WorkPool(ObjectModel):
    """A work pool as the API returns it (WorkPoolResponse)."""

    name: str
    description: str | None = None
    type: str
    base_job_template: dict[str, Any] = Field(default_factory=dict)
    is_paused: bool = False
    concurrency_limit: int | None = None
    status: WorkPoolStatus | None = None
    default_queue_id: UUID | None = None
    storage_configuration: WorkPoolStorageConfiguration = Field(
        default_factory=WorkPoolStorageConfiguration
    )
    active_slots: int | None = None


class WorkPoolFilterId(FilterModel):
    any_: list[UUID] | None = None


class WorkPoolFilterName(FilterModel):
    any_: list[str] | None = None


class WorkPoolFilterType(FilterModel):
    any_: list[str] | None = None


class WorkPoolFilter(OperatorFilter):
    id: WorkPoolFilterId | None = None
    name: WorkPoolFilterName | None = None
    type: WorkPoolFilterType | None = None


class WorkPoolConcurrencyStatus(PodiumModel):
    active_slots: int
    concurrency_limit: int | None = None
    queues: list[WorkQueueConcurrencyStatusDetail] = Field(default_factory=list)
    count: int
    limit: int
    pages: int
    page: int


class ScheduledRun(PodiumModel):
    """One run chosen for a worker, before the run itself is loaded."""

    work_pool_id: UUID
    work_queue_id: UUID
    flow_run_id: UUID
