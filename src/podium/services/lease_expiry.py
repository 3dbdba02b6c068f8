"""Release concurrency slots whose leases expired.

A client that crashes while holding slots stops renewing its lease. Once the
lease expires, this service gives its slots back to every limit it held.
"""

from __future__ import annotations

import datetime as dt

from podium.services.base import Service
from podium.storage.concurrency_slots import expire_leases


class ExpireLeases(Service):
    """Release expired concurrency leases, one bounded batch per transaction."""

    name = "lease_expiry"

    async def run_once(self, now: dt.datetime) -> int:
        async with self.database.transaction() as connection:
            return await expire_leases(connection, now)
