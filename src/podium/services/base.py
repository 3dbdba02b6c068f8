"""The shape every background service shares.

A service is one `run_once(now)` step, which does a bounded amount of work
and returns how many objects it changed, plus a loop that calls it every
`loop_seconds`. Tests call `run_once` directly with a fixed clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from abc import ABC, abstractmethod

from podium.storage.database import Database

logger = logging.getLogger(__name__)


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
        logger.info("Service %s started; it runs every %.1f s.", self.name, self.loop_seconds)
        while not stop.is_set():
            try:
                changed = await self.run_once(dt.datetime.now(dt.UTC))
                if changed:
                    logger.info("Service %s changed %d objects.", self.name, changed)
            except Exception:
                # One failed step must not end the loop; the next step retries.
                logger.exception("Service %s failed a step; retrying next loop.", self.name)
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.loop_seconds)
            except TimeoutError:
                pass
        logger.info("Service %s stopped.", self.name)
