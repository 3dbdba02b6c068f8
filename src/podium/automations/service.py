"""The service that fires Proactive triggers whose windows ended."""

from __future__ import annotations

import datetime as dt

from podium.automations.engine import AutomationEngine
from podium.services.base import Service
from podium.storage.database import Database

# Seconds between evaluations; a Proactive trigger fires at most this late
# after its window ends.
LOOP_SECONDS = 5.0


class EvaluateProactiveTriggers(Service):
    """Check every Proactive trigger's windows and fire those that ended short."""

    name = "proactive_triggers"

    def __init__(self, database: Database, loop_seconds: float = LOOP_SECONDS) -> None:
        super().__init__(database, loop_seconds)
        self.engine = AutomationEngine(database)

    async def run_once(self, now: dt.datetime) -> int:
        return await self.engine.evaluate_proactive(now)
