"""Wire models for variables."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import orjson
from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)

from podium.schemas.base import ActionModel, ObjectModel, unique_tags
from podium.schemas.filtering import FilterModel, OperatorFilter

MAX_NAME_LENGTH = 255
# The limit applies to the value serialised as JSON, as in Prefect 3.9.1.
MAX_VALUE_LENGTH = 5000
NAME_PATTERN = r"^[a-z0-9_-]*$"


def _check_value_length(value: Any) -> Any:
    if value is not None and len(orjson.dumps(value)) > MAX_VALUE_LENGTH:
        raise ValueError(
            f"the value is longer than {MAX_VALUE_LENGTH} characters as JSON, "
            "so store less data in one variable"
        )
    return value


VariableName = Annotated[
    str,
    Field(
        max_length=MAX_NAME_LENGTH,
        pattern=NAME_PATTERN,
        description="Lowercase letters, digits, dashes and underscores.",
    ),
]
VariableValue = Annotated[
    StrictStr
    | StrictInt
    | StrictBool
    | StrictFloat
    | dict[str, Any]
    | list[Any]
    | None,
    AfterValidator(_check_value_length),
]
Tags = Annotated[list[str], AfterValidator(unique_tags)]


class Variable(ObjectModel):
    name: str
    value: Any = None
    tags: list[str] = Field(default_factory=list)


class VariableCreate(ActionModel):
    name: VariableName
    value: VariableValue
    tags: Tags = Field(default_factory=list)


class VariableUpdate(ActionModel):
    name: VariableName | None = None
    value: VariableValue = None
    tags: Tags | None = None


class VariableSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_DESC = "NAME_DESC"
    NAME_ASC = "NAME_ASC"


class VariableFilterId(FilterModel):
    any_: list[UUID] | None = None


class VariableFilterName(FilterModel):
    any_: list[str] | None = None
    like_: str | None = None


class VariableFilterTags(OperatorFilter):
    all_: list[str] | None = None
    is_null_: bool | None = None


class VariableFilter(OperatorFilter):
    id: VariableFilterId | None = None
    name: VariableFilterName | None = None
    tags: VariableFilterTags | None = None
