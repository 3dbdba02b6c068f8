"""Slot accounting for global concurrency limits, with leases that expire.

A limit's `active_slots` is a counter. Taking slots with a lease adds to the
counter and inserts the lease in the same transaction. Releasing the lease,
or the lease-expiry service finding it expired, subtracts the lease's slots
and deletes it in one transaction. So a client that dies while holding slots
gives them back once its lease expires, and the counter always equals the
slots of live leases plus slots taken without a lease.

Rate limits (`slot_decay_per_second > 0`) also lose slots continuously: the
stored counter is the value at `slots_updated`, and readers subtract the
decay since then. Denied requests add to `denied_slots`, which decays too and
spreads the `Retry-After` times of clients waiting on the same limit.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import InvalidRequest
from podium.schemas.concurrency_limits import ConcurrencyLeaseHolder, SlotMode
from podium.storage.tables import (
    concurrency_lease_limits,
    concurrency_leases,
    concurrency_limits,
)

# Retry-After bounds for limits without decay, in seconds. The upper bound
# keeps a long average occupancy from making clients sleep for minutes.
MAX_RETRY_AFTER_SECONDS = 30.0
MIN_RETRY_AFTER_SECONDS = 0.1
# Weight of the newest observation in the moving average of slot occupancy.
OCCUPANCY_WEIGHT = 0.2
EXPIRY_BATCH_SIZE = 500


def decayed_slots(limit: Mapping[str, Any], now: dt.datetime) -> tuple[float, float]:
    """Return a limit's `(active_slots, denied_slots)` as of `now`."""
    updated = limit.get("slots_updated")
    elapsed = max(0.0, (now - updated).total_seconds()) if updated else 0.0
    decay = float(limit["slot_decay_per_second"] or 0.0)
    active = float(limit["active_slots"] or 0.0)
    denied = float(limit["denied_slots"] or 0.0)
    if decay > 0:
        active = max(0.0, active - decay * elapsed)
        denied_rate = decay
    else:
        denied_rate = 1.0 / max(float(limit["avg_slot_occupancy_seconds"]), 0.1)
    return active, max(0.0, denied - denied_rate * elapsed)


def retry_after_seconds(
    limit: Mapping[str, Any], active: float, denied: float, slots: int
) -> float:
    """Estimate how long a denied request should wait before asking again.

    With decay, it is the time for the missing slots (and those of the other
    waiters) to decay. Without, it is the average occupancy per slot times the
    waiters per slot, capped. A random factor of up to 25 % spreads retries.
    """
    decay = float(limit["slot_decay_per_second"] or 0.0)
    if decay > 0:
        missing = active + slots - limit["limit"] + denied
        wait = missing / decay
    else:
        per_slot = min(
            float(limit["avg_slot_occupancy_seconds"]), MAX_RETRY_AFTER_SECONDS
        )
        wait = min(
            per_slot * (slots + denied) / max(limit["limit"], 1),
            MAX_RETRY_AFTER_SECONDS,
        )
    return max(MIN_RETRY_AFTER_SECONDS, wait) * random.uniform(1.0, 1.25)


@dataclass
class SlotGrant:
    """The outcome of a request for slots."""

    granted: bool
    limits: list[Any] = field(default_factory=list)
    retry_after: float | None = None
    lease_id: UUID | None = None


async def _lock_limits(connection: AsyncConnection, where: Any) -> list[Any]:
    # Rows are locked in id order on PostgreSQL so two requests never
    # deadlock; SQLite has a single writer and ignores FOR UPDATE.
    query = (
        sa.select(concurrency_limits)
        .where(where)
        .order_by(concurrency_limits.c.id)
        .with_for_update()
    )
    return list((await connection.execute(query)).all())


async def _write_slots(
    connection: AsyncConnection, limit_id: UUID, now: dt.datetime, **values: Any
) -> None:
    await connection.execute(
        sa.update(concurrency_limits)
        .where(concurrency_limits.c.id == limit_id)
        .values(slots_updated=now, **values)
    )


async def acquire_slots(
    connection: AsyncConnection,
    names: Sequence[str],
    slots: int,
    mode: SlotMode,
    now: dt.datetime,
    lease_seconds: float | None = None,
    holder: ConcurrencyLeaseHolder | None = None,
) -> SlotGrant:
    """Take `slots` on every active limit named, all or none.

    Names without a limit are ignored, as the Prefect API does. With
    `lease_seconds`, the slots are held by a new lease that expires then.
    """
    rows = await _lock_limits(connection, concurrency_limits.c.name.in_(list(names)))
    active_rows = [row for row in rows if row.active]
    too_small = [row.name for row in active_rows if row.limit < slots]
    if too_small:
        raise InvalidRequest(
            f"slots: {slots} slots requested, more than the limit of {', '.join(too_small)}."
        )
    not_decaying = [row.name for row in active_rows if not row.slot_decay_per_second]
    if mode == SlotMode.rate_limit and not_decaying:
        raise InvalidRequest(
            "mode: rate_limit needs limits with slot_decay_per_second above 0; "
            f"these have none: {', '.join(not_decaying)}."
        )

    current = {row.id: decayed_slots(row._mapping, now) for row in active_rows}
    blocked = [row for row in active_rows if current[row.id][0] + slots > row.limit]
    if blocked:
        waits = [
            retry_after_seconds(row._mapping, *current[row.id], slots)
            for row in blocked
        ]
        for row in active_rows:
            active, denied = current[row.id]
            await _write_slots(
                connection,
                row.id,
                now,
                active_slots=active,
                denied_slots=denied + slots,
            )
        return SlotGrant(granted=False, limits=rows, retry_after=max(waits))

    for row in active_rows:
        active, denied = current[row.id]
        await _write_slots(
            connection, row.id, now, active_slots=active + slots, denied_slots=denied
        )
    grant = SlotGrant(granted=True, limits=rows)
    if lease_seconds is not None:
        grant.lease_id = await _create_lease(
            connection,
            [row.id for row in active_rows],
            slots,
            now,
            lease_seconds,
            holder,
        )
    return grant


async def _create_lease(
    connection: AsyncConnection,
    limit_ids: list[UUID],
    slots: int,
    now: dt.datetime,
    lease_seconds: float,
    holder: ConcurrencyLeaseHolder | None,
) -> UUID:
    statement = (
        sa.insert(concurrency_leases)
        .values(
            created=now,
            expires_at=now + dt.timedelta(seconds=lease_seconds),
            slots=slots,
            holder=holder.model_dump(mode="json") if holder else None,
            holder_id=holder.id if holder else None,
        )
        .returning(concurrency_leases.c.id)
    )
    lease_id: UUID = (await connection.execute(statement)).scalar_one()
    if limit_ids:
        await connection.execute(
            sa.insert(concurrency_lease_limits),
            [{"lease_id": lease_id, "limit_id": limit_id} for limit_id in limit_ids],
        )
    return lease_id


async def release_slots(
    connection: AsyncConnection,
    where: Any,
    slots: int,
    now: dt.datetime,
    occupancy_seconds: float | None = None,
) -> list[Any]:
    """Give back `slots` on the matching limits; return their rows."""
    rows = await _lock_limits(connection, where)
    for row in rows:
        active, denied = decayed_slots(row._mapping, now)
        values: dict[str, Any] = {
            "active_slots": max(0.0, active - slots),
            "denied_slots": denied,
        }
        if occupancy_seconds is not None and slots > 0:
            observed = occupancy_seconds / slots
            average = row.avg_slot_occupancy_seconds
            values["avg_slot_occupancy_seconds"] = average + OCCUPANCY_WEIGHT * (
                observed - average
            )
        await _write_slots(connection, row.id, now, **values)
    return rows


async def release_lease(
    connection: AsyncConnection, lease_id: UUID, now: dt.datetime
) -> bool:
    """Give back a lease's slots and delete it; False when there is no such lease."""
    query = (
        sa.select(concurrency_leases)
        .where(concurrency_leases.c.id == lease_id)
        .with_for_update()
    )
    lease = (await connection.execute(query)).first()
    if lease is None:
        return False
    limit_ids = sa.select(concurrency_lease_limits.c.limit_id).where(
        concurrency_lease_limits.c.lease_id == lease_id
    )
    occupancy = max((now - lease.created).total_seconds(), 0.0)
    await release_slots(
        connection, concurrency_limits.c.id.in_(limit_ids), lease.slots, now, occupancy
    )
    await connection.execute(
        sa.delete(concurrency_leases).where(concurrency_leases.c.id == lease_id)
    )
    return True


async def release_leases_where(
    connection: AsyncConnection, where: Any, now: dt.datetime
) -> int:
    """Release every lease matching a clause on `concurrency_leases`."""
    ids = (
        (await connection.execute(sa.select(concurrency_leases.c.id).where(where)))
        .scalars()
        .all()
    )
    for lease_id in ids:
        await release_lease(connection, lease_id, now)
    return len(ids)


def leases_on_limit(limit_id: UUID) -> Any:
    """Match the leases that hold slots of one limit."""
    return concurrency_leases.c.id.in_(
        sa.select(concurrency_lease_limits.c.lease_id).where(
            concurrency_lease_limits.c.limit_id == limit_id
        )
    )


async def renew_lease(
    connection: AsyncConnection, lease_id: UUID, lease_seconds: float, now: dt.datetime
) -> bool:
    """Push an unexpired lease's expiry to `now + lease_seconds`; False if none."""
    result = await connection.execute(
        sa.update(concurrency_leases)
        .where(
            concurrency_leases.c.id == lease_id, concurrency_leases.c.expires_at > now
        )
        .values(expires_at=now + dt.timedelta(seconds=lease_seconds))
    )
    return bool(result.rowcount)


async def expire_leases(connection: AsyncConnection, now: dt.datetime) -> int:
    """Release up to `EXPIRY_BATCH_SIZE` expired leases; return how many."""
    query = (
        sa.select(concurrency_leases.c.id)
        .where(concurrency_leases.c.expires_at <= now)
        .order_by(concurrency_leases.c.expires_at)
        .limit(EXPIRY_BATCH_SIZE)
    )
    ids = (await connection.execute(query)).scalars().all()
    for lease_id in ids:
        await release_lease(connection, lease_id, now)
    return len(ids)
