"""The late-runs service: marks runs that missed their start time as Late."""

from __future__ import annotations

import datetime as dt
import logging

from podium.services.base import Service
from podium.storage import run_sweeps
from podium.storage.database import Database

logger = logging.getLogger(__name__)

# Runs marked per step; a backlog is worked off over the following steps.
BATCH_SIZE = 400


class MarkLateRuns(Service):
    """Give a `Late` state to SCHEDULED runs not started within the grace period.

    Each run is changed only if its `Scheduled` state is still current when
    written, so a run that went PENDING meanwhile is never marked Late.
    """

    name = "late_runs"

    def __init__(
        self, database: Database, loop_seconds: float, grace_seconds: float
    ) -> None:
        super().__init__(database, loop_seconds)
        self.grace_seconds = grace_seconds

    async def run_once(self, now: dt.datetime) -> int:
        due_before = now - dt.timedelta(seconds=self.grace_seconds)
        async with self.database.read() as connection:
            candidates = await run_sweeps.read_late_run_candidates(
                connection, due_before, BATCH_SIZE
            )
        marked = 0
        for run in candidates:
            # One short transaction per run keeps SQLite's writer free for API requests.
            async with self.database.transaction() as connection:
                if await run_sweeps.mark_run_late(
                    connection, run.id, run.state_id, now
                ):
                    marked += 1
        return marked
