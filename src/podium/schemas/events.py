"""Wire models for events, event filters and event counts."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from podium.schemas.filtering import FilterModel

# Limits on what one event may carry, as the Prefect 3.9.1 server enforces
# them by default.
MAX_EVENT_NAME_LENGTH = 1024
MAX_LABELS_PER_RESOURCE = 500
MAX_RELATED_RESOURCES = 100

RESOURCE_ID = "prefect.resource.id"
RESOURCE_ROLE = "prefect.resource.role"
RESOURCE_NAME = "prefect.resource.name"

# Labels map to one value or a list of accepted values. Values may be glob
# patterns (`*`, `?`), and a leading `!` negates one.
ResourceSpecification = dict[str, str | list[str]]


def _check_labels(labels: dict[str, str], *required: str) -> dict[str, str]:
    if len(labels) > MAX_LABELS_PER_RESOURCE:
        raise ValueError(
            f"A resource has {len(labels)} labels; at most "
            f"{MAX_LABELS_PER_RESOURCE} are allowed."
        )
    for label in required:
        if not labels.get(label):
            raise ValueError(f"A resource must have a non-empty {label!r} label.")
    return labels


class Event(BaseModel):
    """An event as a client sends it."""

    model_config = ConfigDict(extra="ignore")

    occurred: dt.datetime
    event: str = Field(max_length=MAX_EVENT_NAME_LENGTH)
    resource: dict[str, str]
    related: list[dict[str, str]] = Field(
        default_factory=list, max_length=MAX_RELATED_RESOURCES
    )
    payload: dict[str, Any] = Field(default_factory=dict)
    id: UUID
    follows: UUID | None = None

    @field_validator("occurred")
    @classmethod
    def _as_utc(cls, occurred: dt.datetime) -> dt.datetime:
        if occurred.tzinfo is None:
            return occurred.replace(tzinfo=dt.UTC)
        return occurred.astimezone(dt.UTC)

    @field_validator("resource")
    @classmethod
    def _check_resource(cls, resource: dict[str, str]) -> dict[str, str]:
        return _check_labels(resource, RESOURCE_ID)

    @field_validator("related")
    @classmethod
    def _check_related(cls, related: list[dict[str, str]]) -> list[dict[str, str]]:
        for resource in related:
            _check_labels(resource, RESOURCE_ID, RESOURCE_ROLE)
        return related

    @property
    def resource_id(self) -> str:
        return self.resource[RESOURCE_ID]

    def related_in_role(self, role: str) -> dict[str, str] | None:
        """Return the first related resource in `role`, if any."""
        for resource in self.related:
            if resource.get(RESOURCE_ROLE) == role:
                return resource
        return None

    def receive(self, received: dt.datetime | None = None) -> ReceivedEvent:
        """Stamp the event with the time the server received it."""
        return ReceivedEvent(
            **self.model_dump(), received=received or dt.datetime.now(dt.UTC)
        )


class ReceivedEvent(Event):
    """An event as the server stores and returns it."""

    received: dt.datetime


class EventOrder(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


def _default_since() -> dt.datetime:
    midnight = dt.datetime.now(dt.UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return midnight - dt.timedelta(days=180)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class EventOccurredFilter(FilterModel):
    """An inclusive time window; 180 days before today up to now by default."""

    since: dt.datetime = Field(default_factory=_default_since)
    until: dt.datetime = Field(default_factory=_now)


class EventNameFilter(FilterModel):
    prefix: list[str] | None = None
    exclude_prefix: list[str] | None = None
    name: list[str] | None = None
    exclude_name: list[str] | None = None


class EventResourceFilter(FilterModel):
    id: list[str] | None = None
    id_prefix: list[str] | None = None
    labels: ResourceSpecification | None = None
    distinct: bool = False


class EventRelatedFilter(FilterModel):
    id: list[str] | None = None
    role: list[str] | None = None
    resources_in_roles: list[tuple[str, str]] | None = None
    labels: ResourceSpecification | None = None


class EventAnyResourceFilter(FilterModel):
    id: list[str] | None = None
    id_prefix: list[str] | None = None
    labels: ResourceSpecification | None = None


class EventIDFilter(FilterModel):
    id: list[UUID] | None = None


class EventTextFilter(FilterModel):
    query: str = Field(max_length=200)


class EventFilter(FilterModel):
    occurred: EventOccurredFilter = Field(default_factory=EventOccurredFilter)
    event: EventNameFilter | None = None
    resource: EventResourceFilter | None = None
    related: EventRelatedFilter | list[EventRelatedFilter] | None = None
    any_resource: EventAnyResourceFilter | list[EventAnyResourceFilter] | None = None
    id: EventIDFilter = Field(default_factory=EventIDFilter)
    text: EventTextFilter | None = None
    order: EventOrder = EventOrder.DESC

    def related_filters(self) -> list[EventRelatedFilter]:
        if self.related is None:
            return []
        return self.related if isinstance(self.related, list) else [self.related]

    def any_resource_filters(self) -> list[EventAnyResourceFilter]:
        if self.any_resource is None:
            return []
        if isinstance(self.any_resource, list):
            return self.any_resource
        return [self.any_resource]


class EventPage(BaseModel):
    events: list[ReceivedEvent]
    total: int
    next_page: str | None


class Countable(StrEnum):
    day = "day"
    time = "time"
    event = "event"
    resource = "resource"


class TimeUnit(StrEnum):
    week = "week"
    day = "day"
    hour = "hour"
    minute = "minute"
    second = "second"

    def as_timedelta(self, interval: float) -> dt.timedelta:
        seconds = {
            TimeUnit.week: 7 * 86400,
            TimeUnit.day: 86400,
            TimeUnit.hour: 3600,
            TimeUnit.minute: 60,
            TimeUnit.second: 1,
        }[self]
        return dt.timedelta(seconds=seconds * interval)


class EventCount(BaseModel):
    value: str
    label: str
    count: int
    start_time: dt.datetime
    end_time: dt.datetime
