"""Start and stop a set of background services as asyncio tasks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from podium.services.base import Service

logger = logging.getLogger(__name__)


class ServiceRunner:
    """Runs each service's loop in its own task until `stop` is called."""

    def __init__(
        self, services: Sequence[Service], stop_timeout_seconds: float = 10.0
    ) -> None:
        self.services = list(services)
        self.stop_timeout_seconds = stop_timeout_seconds
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def names(self) -> list[str]:
        return [service.name for service in self.services]

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    def start(self) -> None:
        if self._tasks:
            raise RuntimeError("The services were already started.")
        for service in self.services:
            task = asyncio.create_task(
                service.run_forever(self._stop), name=f"podium-service-{service.name}"
            )
            task.add_done_callback(self._report_unexpected_end)
            self._tasks.append(task)

    async def stop(self) -> None:
        """Ask every loop to stop, wait for steps in progress, then cancel stragglers."""
        self._stop.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=self.stop_timeout_seconds)
        for task in pending:
            logger.warning(
                "Service task %s did not stop within %.1f s; cancelling it.",
                task.get_name(),
                self.stop_timeout_seconds,
            )
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def wait(self) -> None:
        """Wait until every service loop has ended."""
        if self._tasks:
            await asyncio.wait(self._tasks)

    def _report_unexpected_end(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._stop.is_set():
            return
        error = task.exception()
        logger.error(
            "Service task %s ended before shutdown: %r", task.get_name(), error
        )
