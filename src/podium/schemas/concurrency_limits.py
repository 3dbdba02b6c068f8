"""Wire models for tag concurrency limits (v1) and global concurrency limits (v2)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import Field

from podium.schemas.base import ActionModel, ObjectModel, PodiumModel

NAME_PATTERN = r"^[^/%&><]+$"
# Tag limits are global limits whose names carry this prefix.
TAG_PREFIX = "tag:"

LimitName = Annotated[str, Field(pattern=NAME_PATTERN)]


class SlotMode(StrEnum):
    concurrency = "concurrency"
    rate_limit = "rate_limit"


class ConcurrencyLeaseHolder(PodiumModel):
    type: str = Field(pattern=r"^(flow_run|task_run|deployment)$")
    id: UUID


class LeaseInfo(PodiumModel):
    """One live lease on a limit: who holds how many slots until when."""

    lease_id: UUID
    slots: int
    holder: ConcurrencyLeaseHolder | None = None
    expires_at: dt.datetime


class ConcurrencyLimitV2(ObjectModel):
    active: bool = True
    name: str
    limit: int
    active_slots: int = 0
    denied_slots: int = 0
    slot_decay_per_second: float = 0.0
    avg_slot_occupancy_seconds: float = 2.0


class GlobalConcurrencyLimitResponse(ObjectModel):
    active: bool = True
    name: str
    limit: int
    active_slots: int
    slot_decay_per_second: float = 0.0
    # Not in the Prefect contract: the live leases that hold this limit's slots.
    holders: list[LeaseInfo] = Field(default_factory=list)


class ConcurrencyLimitV2Create(ActionModel):
    active: bool = True
    name: LimitName
    limit: int = Field(ge=0)
    active_slots: int = Field(default=0, ge=0)
    denied_slots: int = Field(default=0, ge=0)
    slot_decay_per_second: float = Field(default=0.0, ge=0)


class ConcurrencyLimitV2Update(ActionModel):
    active: bool | None = None
    name: LimitName | None = None
    limit: int | None = Field(default=None, ge=0)
    active_slots: int | None = Field(default=None, ge=0)
    denied_slots: int | None = Field(default=None, ge=0)
    slot_decay_per_second: float | None = Field(default=None, ge=0)


class MinimalConcurrencyLimitResponse(PodiumModel):
    id: UUID
    name: str
    limit: int


class ConcurrencyLimitWithLeaseResponse(PodiumModel):
    lease_id: UUID
    limits: list[MinimalConcurrencyLimitResponse]


class ConcurrencyLimit(ObjectModel):
    """A tag limit as the v1 API shows it; `active_slots` lists task run ids."""

    tag: str
    concurrency_limit: int
    active_slots: list[UUID] = Field(default_factory=list)


class ConcurrencyLimitCreate(ActionModel):
    # The tag becomes part of a global limit's name, so it obeys the same pattern.
    tag: str = Field(min_length=1, pattern=NAME_PATTERN)
    concurrency_limit: int = Field(ge=0)
