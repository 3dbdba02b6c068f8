"""Base classes shared by all wire models."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Label values may be strings, numbers or booleans, as the contract allows.
Labels = dict[str, bool | int | float | str]


class PodiumModel(BaseModel):
    """Base for response bodies and stored objects."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")


class ActionModel(BaseModel):
    """Base for request bodies: unknown fields are a client error."""

    model_config = ConfigDict(extra="forbid")


class ObjectModel(PodiumModel):
    """A stored object with an id and creation and update times."""

    id: UUID
    created: dt.datetime | None = None
    updated: dt.datetime | None = None


def unique_tags(tags: list[str]) -> list[str]:
    """Drop repeated tags while keeping their first order."""
    return list(dict.fromkeys(tags))


class TaggedActionModel(ActionModel):
    tags: list[str] = Field(default_factory=list)

    @field_validator("tags")
    @classmethod
    def _dedupe_tags(cls, tags: list[str]) -> list[str]:
        return unique_tags(tags)


def dump_for_storage(model: BaseModel, **kwargs: Any) -> dict[str, Any]:
    """Dump a model to JSON-compatible values for a JSON column."""
    return model.model_dump(mode="json", **kwargs)
