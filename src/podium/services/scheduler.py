"""The scheduler: keeps every active schedule filled with SCHEDULED runs.

Each step fills the schedules that are due (`next_fill_at` unset or past),
in batches of one short write transaction each, so a new or changed
deployment gets its runs on the next loop and idle loops cost one indexed
query. Which occurrences a schedule gets is decided by
`podium.orchestration.schedules.plan_fill`.
"""

from __future__ import annotations

import datetime as dt

from podium.orchestration.schedules import FillLimits
from podium.services.base import Service
from podium.settings import Settings
from podium.storage.database import Database
from podium.storage.deployment_schedules import fill_due_schedules

# Schedules filled per write transaction. With up to `scheduler_max_runs`
# runs each this keeps a SQLite write to a few thousand rows.
BATCH_SIZE = 50
# Batches per step, so one step stays bounded when many schedules are due.
MAX_BATCHES_PER_STEP = 40


class Scheduler(Service):
    """Creates the auto-scheduled flow runs of active deployment schedules."""

    name = "scheduler"

    def __init__(
        self, database: Database, loop_seconds: float, limits: FillLimits
    ) -> None:
        super().__init__(database, loop_seconds)
        self.limits = limits

    @classmethod
    def from_settings(cls, database: Database, settings: Settings) -> Scheduler:
        limits = FillLimits(
            horizon=dt.timedelta(hours=settings.scheduler_horizon_hours),
            min_runs=settings.scheduler_min_runs,
            max_runs=settings.scheduler_max_runs,
        )
        return cls(database, settings.scheduler_loop_seconds, limits)

    async def run_once(self, now: dt.datetime) -> int:
        """Fill due schedules as of `now`; return the number of runs created."""
        created = 0
        for _ in range(MAX_BATCHES_PER_STEP):
            async with self.database.transaction() as connection:
                seen, inserted = await fill_due_schedules(
                    connection, now, self.limits, BATCH_SIZE
                )
            created += inserted
            if seen < BATCH_SIZE:
                break
        return created
