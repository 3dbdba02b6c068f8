"""Wire models for `/task_workers`."""

from __future__ import annotations

import datetime as dt

from podium.schemas.base import PodiumModel


class TaskWorkerFilter(PodiumModel):
    task_keys: list[str]


class TaskWorkerResponse(PodiumModel):
    identifier: str
    task_keys: list[str]
    timestamp: dt.datetime
