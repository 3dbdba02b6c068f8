"""The shape every background service shares.

A service is one `run_once(now)` step, which does a bounded amount of work
and returns how many objects it changed, plus a loop that calls it every
`loop_seconds`. Tests call `run_once` directly with a fixed clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from abc import ABC, abstractmethod

from podium.storage.database import Database

logger = logging.getLogger(__name__)

# After the first failure of a run of failed steps, only every this many
# further failures is logged with its traceback.
FAILURE_LOG_EVERY = 10


class Service(ABC):
    """A periodic background job over one database."""

    name: str = "service"

    def __init__(self, database: Database, loop_seconds: float) -> None:
        self.database = database
        self.loop_seconds = loop_seconds

    @abstractmethod
    async def run_once(self, now: dt.datetime) -> int:
        """Do one step of work as of `now`; return the number of objects changed."""

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Call `run_once` every `loop_seconds` until `stop` is set."""
        logger.debug(
            "Service %s started; it runs every %.1f s.", self.name, self.loop_seconds
        )
        failures = 0
        while not stop.is_set():
            failures = await self._step(failures)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.loop_seconds)
        logger.debug("Service %s stopped.", self.name)

    async def _step(self, failures: int) -> int:
        """Run one step and log its outcome. Returns the count of consecutive failures."""
        started = time.perf_counter()
        try:
            changed = await self.run_once(dt.datetime.now(dt.UTC))
        except Exception:
            # One failed step must not end the loop; the next step retries.
            failures += 1
            if failures == 1 or failures % FAILURE_LOG_EVERY == 0:
                logger.exception(
                    "Service %s failed a step (%d in a row); retrying in %.1f s.",
                    self.name,
                    failures,
                    self.loop_seconds,
                )
            return failures
        if failures:
            logger.info(
                "Service %s recovered after %d failed steps.", self.name, failures
            )
        if changed:
            elapsed = time.perf_counter() - started
            logger.info(
                "Service %s changed %d objects in %.3f s.", self.name, changed, elapsed
            )
        return 0
