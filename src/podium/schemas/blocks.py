"""Wire models for block types, block schemas and block documents."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field, model_validator

from podium.schemas.base import ActionModel, ObjectModel
from podium.schemas.filtering import FilterModel, OperatorFilter

# Names end up in URLs, so characters that break paths are not allowed.
NAME_PATTERN = r"^[^/%&><]+$"
SLUG_PATTERN = r"^[a-z0-9-]*$"
DEFAULT_SCHEMA_VERSION = "non-versioned"

BlockTypeSlug = Annotated[
    str,
    Field(pattern=SLUG_PATTERN, description="Lowercase letters, digits and dashes."),
]
BlockDocumentName = Annotated[
    str,
    Field(
        pattern=SLUG_PATTERN,
        description="Lowercase letters, digits and dashes.",
    ),
]


class BlockType(ObjectModel):
    name: str
    slug: str
    logo_url: str | None = None
    documentation_url: str | None = None
    description: str | None = None
    code_example: str | None = None
    is_protected: bool = False


class BlockTypeCreate(ActionModel):
    name: str = Field(pattern=NAME_PATTERN)
    slug: BlockTypeSlug
    logo_url: str | None = None
    documentation_url: str | None = None
    description: str | None = None
    code_example: str | None = None


class BlockTypeUpdate(ActionModel):
    logo_url: str | None = None
    documentation_url: str | None = None
    description: str | None = None
    code_example: str | None = None


class BlockSchema(ObjectModel):
    checksum: str
    fields: dict[str, Any] = Field(default_factory=dict)
    block_type_id: UUID | None
    block_type: BlockType | None = None
    capabilities: list[str] = Field(default_factory=list)
    version: str = DEFAULT_SCHEMA_VERSION


class BlockSchemaCreate(ActionModel):
    fields: dict[str, Any] = Field(default_factory=dict)
    block_type_id: UUID
    capabilities: list[str] = Field(default_factory=list)
    version: str = DEFAULT_SCHEMA_VERSION


class BlockDocument(ObjectModel):
    name: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    block_schema_id: UUID
    block_schema: BlockSchema | None = None
    block_type_id: UUID
    block_type_name: str | None = None
    block_type: BlockType | None = None
    block_document_references: dict[str, dict[str, Any]] = Field(default_factory=dict)
    is_anonymous: bool = False


class BlockDocumentCreate(ActionModel):
    name: BlockDocumentName | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    block_schema_id: UUID
    block_type_id: UUID
    is_anonymous: bool = False

    @model_validator(mode="after")
    def _require_name_unless_anonymous(self) -> BlockDocumentCreate:
        if not self.is_anonymous and not self.name:
            raise ValueError("name is required unless is_anonymous is true")
        return self


class BlockDocumentUpdate(ActionModel):
    block_schema_id: UUID | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    merge_existing_data: bool = True


class BlockDocumentSort(StrEnum):
    NAME_DESC = "NAME_DESC"
    NAME_ASC = "NAME_ASC"
    BLOCK_TYPE_AND_NAME_ASC = "BLOCK_TYPE_AND_NAME_ASC"


class AnyUUIDFilter(FilterModel):
    any_: list[UUID] | None = None


class AnyStringFilter(FilterModel):
    any_: list[str] | None = None


class BlockTypeFilterSlug(AnyStringFilter):
    pass


class BlockSchemaFilterId(AnyUUIDFilter):
    pass


class BlockSchemaFilterBlockTypeId(AnyUUIDFilter):
    pass


class BlockSchemaFilterVersion(AnyStringFilter):
    pass


class BlockDocumentFilterId(AnyUUIDFilter):
    pass


class BlockDocumentFilterBlockTypeId(AnyUUIDFilter):
    pass


class BlockTypeFilterName(FilterModel):
    like_: str | None = None


class BlockTypeFilter(FilterModel):
    name: BlockTypeFilterName | None = None
    slug: BlockTypeFilterSlug | None = None


class BlockSchemaFilterCapabilities(FilterModel):
    all_: list[str] | None = None


class BlockSchemaFilter(OperatorFilter):
    block_type_id: BlockSchemaFilterBlockTypeId | None = None
    block_capabilities: BlockSchemaFilterCapabilities | None = None
    id: BlockSchemaFilterId | None = None
    version: BlockSchemaFilterVersion | None = None


class BlockDocumentFilterIsAnonymous(FilterModel):
    eq_: bool | None = None


class BlockDocumentFilterName(FilterModel):
    any_: list[str] | None = None
    like_: str | None = None


class BlockDocumentFilter(OperatorFilter):
    id: BlockDocumentFilterId | None = None
    # Anonymous documents are hidden unless the filter asks for them.
    is_anonymous: BlockDocumentFilterIsAnonymous | None = Field(
        default_factory=lambda: BlockDocumentFilterIsAnonymous(eq_=False)
    )
    block_type_id: BlockDocumentFilterBlockTypeId | None = None
    name: BlockDocumentFilterName | None = None
