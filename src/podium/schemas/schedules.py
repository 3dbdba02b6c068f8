"""Wire models for schedules and deployment schedules.

A schedule body is one of three shapes, distinguished by its fields: `cron`,
`interval` or `rrule`. The times each produces come from
`podium.orchestration.schedules`, which also states the daylight-saving
policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from podium.orchestration import schedules as maths
from podium.schemas.base import ActionModel, ObjectModel

# The maximum length of an rrule string, as in the Prefect API.
MAX_RRULE_LENGTH = 6500


class _Schedule(BaseModel):
    # Unknown fields are rejected so a body matches exactly one shape.
    model_config = ConfigDict(extra="forbid")

    def occurrences(self, start: dt.datetime) -> Iterator[dt.datetime]:
        raise NotImplementedError


def _check_timezone(name: str | None) -> str | None:
    if name:
        try:
            maths.zone(name)
        except maths.InvalidSchedule:
            raise ValueError(
                f'Invalid timezone: "{name}" (use an IANA name such as America/New_York)'
            ) from None
    return name


class CronSchedule(_Schedule):
    cron: str = Field(examples=["0 0 * * *"])
    timezone: str | None = Field(default=None, examples=["America/New_York"])
    day_or: bool = True

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, cron: str) -> str:
        try:
            return maths.validate_cron(cron)
        except maths.InvalidSchedule as error:
            raise ValueError(str(error)) from None

    _valid_timezone = field_validator("timezone")(_check_timezone)

    def occurrences(self, start: dt.datetime) -> Iterator[dt.datetime]:
        return maths.cron_occurrences(self.cron, self.timezone, self.day_or, start)


class IntervalSchedule(_Schedule):
    interval: dt.timedelta
    anchor_date: dt.datetime = Field(
        default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0),
        examples=["2020-01-01T00:00:00Z"],
    )
    timezone: str | None = Field(default=None, examples=["America/New_York"])

    _valid_timezone = field_validator("timezone")(_check_timezone)

    @field_validator("interval")
    @classmethod
    def _positive_interval(cls, interval: dt.timedelta) -> dt.timedelta:
        if interval <= dt.timedelta(0):
            raise ValueError("The interval must be greater than 0 seconds.")
        return interval

    @model_validator(mode="after")
    def _resolve_anchor(self) -> IntervalSchedule:
        # A naive anchor is a local time in the schedule's timezone; the stored
        # anchor is always an aware instant, and the timezone defaults to UTC.
        if self.timezone is None:
            self.timezone = "UTC"
        if self.anchor_date.tzinfo is None:
            self.anchor_date = maths.to_instant(
                self.anchor_date, maths.zone(self.timezone)
            )
        return self

    @field_serializer("interval")
    def _interval_seconds(self, interval: dt.timedelta) -> float:
        return interval.total_seconds()

    def occurrences(self, start: dt.datetime) -> Iterator[dt.datetime]:
        return maths.interval_occurrences(
            self.interval, self.anchor_date, self.timezone, start
        )


class RRuleSchedule(_Schedule):
    rrule: str = Field(max_length=MAX_RRULE_LENGTH)
    timezone: str | None = Field(default="UTC", examples=["America/New_York"])

    _valid_timezone = field_validator("timezone")(_check_timezone)

    @model_validator(mode="after")
    def _valid_rrule(self) -> RRuleSchedule:
        try:
            maths.parse_rrule(self.rrule, self.timezone)
        except maths.InvalidSchedule as error:
            raise ValueError(str(error)) from None
        return self

    def occurrences(self, start: dt.datetime) -> Iterator[dt.datetime]:
        return maths.rrule_occurrences(self.rrule, self.timezone, start)


Schedule = IntervalSchedule | CronSchedule | RRuleSchedule


def schedule_from_json(value: dict[str, Any]) -> Schedule:
    """Rebuild a stored schedule; storage keeps the dumped JSON."""
    if "cron" in value:
        return CronSchedule.model_validate(value)
    if "interval" in value:
        return IntervalSchedule.model_validate(value)
    return RRuleSchedule.model_validate(value)


class DeploymentSchedule(ObjectModel):
    deployment_id: UUID | None = None
    schedule: Schedule
    active: bool = True
    max_scheduled_runs: int | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    slug: str | None = None

    @field_validator("schedule", mode="before")
    @classmethod
    def _from_storage(cls, value: Any) -> Any:
        return schedule_from_json(value) if isinstance(value, dict) else value


class DeploymentScheduleCreate(ActionModel):
    schedule: Schedule
    active: bool = True
    max_scheduled_runs: int | None = Field(default=None, gt=0)
    parameters: dict[str, Any] = Field(default_factory=dict)
    slug: str | None = None
    replaces: str | None = None


class DeploymentScheduleUpdate(ActionModel):
    schedule: Schedule | None = None
    active: bool | None = None
    max_scheduled_runs: int | None = Field(default=None, gt=0)
    parameters: dict[str, Any] | None = None
    slug: str | None = None
    replaces: str | None = None
