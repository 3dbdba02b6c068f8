"""Wire models for flows."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from podium.schemas.base import (
    ActionModel,
    Labels,
    ObjectModel,
    PodiumModel,
    TaggedActionModel,
)
from podium.schemas.filtering import FilterModel, OperatorFilter

# Names end up in URLs (`/flows/name/{name}`), so characters that break paths
# are not allowed.
NAME_PATTERN = r"^[^/%&><]+$"


class Flow(ObjectModel):
    name: str
    tags: list[str] = Field(default_factory=list)
    labels: Labels | None = None


class FlowCreate(TaggedActionModel):
    name: str = Field(pattern=NAME_PATTERN)
    labels: Labels | None = None


class FlowUpdate(ActionModel):
    tags: list[str] | None = None


class FlowSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"


class FlowFilterId(FilterModel):
    any_: list[UUID] | None = None
    not_any_: list[UUID] | None = None


class FlowFilterDeployment(OperatorFilter):
    is_null_: bool | None = None


class FlowFilterName(FilterModel):
    any_: list[str] | None = None
    like_: str | None = None


class FlowFilterTags(OperatorFilter):
    all_: list[str] | None = None
    is_null_: bool | None = None


class FlowFilter(OperatorFilter):
    id: FlowFilterId | None = None
    deployment: FlowFilterDeployment | None = None
    name: FlowFilterName | None = None
    tags: FlowFilterTags | None = None


class FlowBulkDeleteResponse(PodiumModel):
    deleted: list[UUID] = Field(default_factory=list)
