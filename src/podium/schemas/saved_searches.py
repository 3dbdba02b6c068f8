"""Wire models for saved searches (named filter sets of the UI)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from podium.schemas.base import ActionModel, ObjectModel, PodiumModel


class SavedSearchFilter(PodiumModel):
    object: str
    property: str
    type: str
    operation: str
    value: Any


class SavedSearch(ObjectModel):
    name: str
    filters: list[SavedSearchFilter] = Field(default_factory=list)


class SavedSearchCreate(ActionModel):
    name: str = Field(min_length=1)
    filters: list[SavedSearchFilter] = Field(default_factory=list)
