"""The worker-status service: workers go OFFLINE and pools and queues NOT_READY
when nothing has been heard from them for a while."""

from __future__ import annotations

import datetime as dt

from podium.services.base import Service
from podium.storage import work_queues, workers
from podium.storage.database import Database


class UpdateWorkerStatus(Service):
    """Mark workers OFFLINE after missed heartbeats and idle pools and queues NOT_READY.

    A worker is OFFLINE once three of its heartbeat intervals have passed
    without one, or `offline_after_seconds` when it never sent its interval.
    A pool with no ONLINE worker is NOT_READY; a queue is NOT_READY once it
    has not been polled for 60 seconds.
    """

    name = "worker_status"

    def __init__(
        self, database: Database, loop_seconds: float, offline_after_seconds: float
    ) -> None:
        super().__init__(database, loop_seconds)
        self.offline_after_seconds = offline_after_seconds

    async def run_once(self, now: dt.datetime) -> int:
        async with self.database.transaction() as connection:
            changed = await workers.mark_stale_workers_offline(
                connection, now, self.offline_after_seconds
            )
            changed += await work_queues.mark_idle_queues_not_ready(connection, now)
        return changed
