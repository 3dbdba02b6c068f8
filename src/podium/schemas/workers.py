"""Wire models for workers, the processes that poll a work pool."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from uuid import UUID

from podium.schemas.base import ObjectModel
from podium.schemas.filtering import FilterModel, OperatorFilter


class WorkerStatus(StrEnum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


class Worker(ObjectModel):
    """A worker as `/work_pools/{name}/workers/filter` returns it (WorkerResponse)."""

    name: str
    work_pool_id: UUID
    last_heartbeat_time: dt.datetime | None = None
    heartbeat_interval_seconds: int | None = None
    status: WorkerStatus = WorkerStatus.OFFLINE


class WorkerFilterLastHeartbeatTime(FilterModel):
    before_: dt.datetime | None = None
    after_: dt.datetime | None = None


class WorkerFilterStatus(FilterModel):
    any_: list[WorkerStatus] | None = None
    not_any_: list[WorkerStatus] | None = None


class WorkerFilter(OperatorFilter):
    last_heartbeat_time: WorkerFilterLastHeartbeatTime | None = None
    status: WorkerFilterStatus | None = None
