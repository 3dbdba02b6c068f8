"""Tests for the lease-expiry service and the slot arithmetic it relies on."""

import datetime as dt

from podium.schemas.concurrency_limits import ConcurrencyLimitV2Create, SlotMode
from podium.services.lease_expiry import ExpireLeases
from podium.storage import concurrency_limits as limits
from podium.storage.concurrency_slots import acquire_slots, decayed_slots
from podium.storage.database import Database

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


async def test_service_frees_only_expired_leases(database: Database) -> None:
    async with database.transaction() as connection:
        await limits.create_limit(
            connection, ConcurrencyLimitV2Create(name="svc", limit=2)
        )
        await acquire_slots(connection, ["svc"], 1, SlotMode.concurrency, NOW, 60)
        await acquire_slots(
            connection,
            ["svc"],
            1,
            SlotMode.concurrency,
            NOW + dt.timedelta(seconds=30),
            60,
        )
    service = ExpireLeases(database, loop_seconds=1.0)

    before = await service.run_once(NOW + dt.timedelta(seconds=59))
    first = await service.run_once(NOW + dt.timedelta(seconds=61))
    async with database.read() as connection:
        limit = await limits.read_limit(connection, "svc")
        holders = await limits.read_holders(
            connection, limit.id, NOW + dt.timedelta(seconds=61)
        )
    second = await service.run_once(NOW + dt.timedelta(seconds=91))

    assert before == 0
    assert first == 1
    assert limit.active_slots == 1
    assert len(holders) == 1
    assert second == 1


async def test_service_idle_without_leases(database: Database) -> None:
    service = ExpireLeases(database, loop_seconds=1.0)

    assert await service.run_once(NOW) == 0


def test_decayed_slots_rate_limit() -> None:
    row = {
        "active_slots": 4.0,
        "denied_slots": 2.0,
        "slot_decay_per_second": 2.0,
        "avg_slot_occupancy_seconds": 2.0,
        "slots_updated": NOW,
    }

    active, denied = decayed_slots(row, NOW + dt.timedelta(seconds=1.5))

    assert active == 1.0
    assert denied == 0.0


def test_decayed_slots_concurrency_keeps_active() -> None:
    row = {
        "active_slots": 3.0,
        "denied_slots": 4.0,
        "slot_decay_per_second": 0.0,
        "avg_slot_occupancy_seconds": 2.0,
        "slots_updated": NOW,
    }

    active, denied = decayed_slots(row, NOW + dt.timedelta(seconds=4))

    assert active == 3.0
    assert denied == 2.0
