"""The cancellation-cleanup service: finishes what a cancellation leaves open."""

from __future__ import annotations

import datetime as dt

from podium.orchestration.context import StateType
from podium.services.base import Service
from podium.storage import run_sweeps
from podium.storage.database import Database

# Runs handled per kind of work and step.
BATCH_SIZE = 200


class CancellationCleanup(Service):
    """Cancel the children of cancelled flow runs and end abandoned cancellations.

    - Task runs not yet finished in a CANCELLED flow run become CANCELLED.
    - Open subflow runs of a CANCELLED parent become CANCELLED, or CANCELLING
      when they belong to a deployment, so their runner or worker stops them.
    - A run CANCELLING for longer than `cancelling_timeout_seconds` (its
      worker or runner is gone) becomes CANCELLED.
    """

    name = "cancellation_cleanup"

    def __init__(
        self, database: Database, loop_seconds: float, cancelling_timeout_seconds: float
    ) -> None:
        super().__init__(database, loop_seconds)
        self.cancelling_timeout_seconds = cancelling_timeout_seconds

    async def run_once(self, now: dt.datetime) -> int:
        changed = await self._cancel_task_runs()
        changed += await self._cancel_subflow_runs()
        changed += await self._end_stuck_cancellations(now)
        return changed

    async def _cancel_task_runs(self) -> int:
        async with self.database.read() as connection:
            task_run_ids = await run_sweeps.read_cancelled_parents_with_open_tasks(
                connection, BATCH_SIZE
            )
        changed = 0
        for task_run_id in task_run_ids:
            async with self.database.transaction() as connection:
                changed += await run_sweeps.cancel_task_run(connection, task_run_id)
        return changed

    async def _cancel_subflow_runs(self) -> int:
        async with self.database.read() as connection:
            subflows = await run_sweeps.read_orphaned_subflow_runs(
                connection, BATCH_SIZE
            )
        changed = 0
        for run in subflows:
            target = StateType.CANCELLING if run.deployment_id else StateType.CANCELLED
            async with self.database.transaction() as connection:
                changed += await run_sweeps.cancel_flow_run_if_current(
                    connection,
                    run.id,
                    run.state_id,
                    target,
                    run_sweeps.PARENT_CANCELLED,
                )
        return changed

    async def _end_stuck_cancellations(self, now: dt.datetime) -> int:
        entered_before = now - dt.timedelta(seconds=self.cancelling_timeout_seconds)
        async with self.database.read() as connection:
            stuck = await run_sweeps.read_stuck_cancelling_runs(
                connection, entered_before, BATCH_SIZE
            )
        changed = 0
        for run in stuck:
            async with self.database.transaction() as connection:
                changed += await run_sweeps.cancel_flow_run_if_current(
                    connection,
                    run.id,
                    run.state_id,
                    StateType.CANCELLED,
                    run_sweeps.CANCELLING_TIMED_OUT,
                )
        return changed
