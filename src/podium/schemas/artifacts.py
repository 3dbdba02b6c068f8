"""Wire models for artifacts and artifact collections (latest version per key)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import Field

from podium.schemas.base import ActionModel, ObjectModel
from podium.schemas.filtering import FilterModel, OperatorFilter

KEY_PATTERN = r"^[a-z0-9-]*$"


class Artifact(ObjectModel):
    key: str | None = None
    type: str | None = None
    description: str | None = None
    data: Any = None
    metadata_: dict[str, str] | None = None
    flow_run_id: UUID | None = None
    task_run_id: UUID | None = None


class ArtifactCollection(ObjectModel):
    key: str
    latest_id: UUID
    type: str | None = None
    description: str | None = None
    data: Any = None
    metadata_: dict[str, str] | None = None
    flow_run_id: UUID | None = None
    task_run_id: UUID | None = None


class ArtifactCreate(ActionModel):
    key: str | None = Field(
        default=None,
        pattern=KEY_PATTERN,
        description="Lowercase letters, digits and dashes.",
    )
    type: str | None = None
    description: str | None = None
    data: Any = None
    metadata_: dict[str, str] | None = None
    flow_run_id: UUID | None = None
    task_run_id: UUID | None = None


class ArtifactUpdate(ActionModel):
    data: Any = None
    description: str | None = None
    metadata_: dict[str, str] | None = None


class ArtifactSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    ID_DESC = "ID_DESC"
    KEY_DESC = "KEY_DESC"
    KEY_ASC = "KEY_ASC"


# The same values sort collections.
ArtifactCollectionSort = ArtifactSort


class _AnyId(FilterModel):
    any_: list[UUID] | None = None


class _Key(FilterModel):
    any_: list[str] | None = None
    like_: str | None = None
    exists_: bool | None = None


class _Type(FilterModel):
    any_: list[str] | None = None
    not_any_: list[str] | None = None


class ArtifactFilterId(_AnyId):
    pass


class ArtifactFilterKey(_Key):
    pass


class ArtifactFilterFlowRunId(_AnyId):
    pass


class ArtifactFilterTaskRunId(_AnyId):
    pass


class ArtifactFilterType(_Type):
    pass


class ArtifactFilter(OperatorFilter):
    id: ArtifactFilterId | None = None
    key: ArtifactFilterKey | None = None
    flow_run_id: ArtifactFilterFlowRunId | None = None
    task_run_id: ArtifactFilterTaskRunId | None = None
    type: ArtifactFilterType | None = None


class ArtifactCollectionFilterLatestId(_AnyId):
    pass


class ArtifactCollectionFilterKey(_Key):
    pass


class ArtifactCollectionFilterFlowRunId(_AnyId):
    pass


class ArtifactCollectionFilterTaskRunId(_AnyId):
    pass


class ArtifactCollectionFilterType(_Type):
    pass


class ArtifactCollectionFilter(OperatorFilter):
    latest_id: ArtifactCollectionFilterLatestId | None = None
    key: ArtifactCollectionFilterKey | None = None
    flow_run_id: ArtifactCollectionFilterFlowRunId | None = None
    task_run_id: ArtifactCollectionFilterTaskRunId | None = None
    type: ArtifactCollectionFilterType | None = None
