"""Tag concurrency limits (the v1 API) on top of global limits.

A tag limit is the global limit named `tag:<tag>`. Its v1 `active_slots` are
the task run ids that hold its slots through leases. The v1 API has no lease
renewal, so its leases last `V1_LEASE_SECONDS`, until released.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import ObjectNotFound
from podium.schemas.concurrency_limits import (
    TAG_PREFIX,
    ConcurrencyLeaseHolder,
    ConcurrencyLimit,
    ConcurrencyLimitCreate,
    ConcurrencyLimitV2,
    ConcurrencyLimitV2Create,
    ConcurrencyLimitV2Update,
    SlotMode,
)
from podium.storage import concurrency_limits as limits
from podium.storage.concurrency_slots import (
    SlotGrant,
    acquire_slots,
    leases_on_limit,
    release_leases_where,
)
from podium.storage.tables import (
    concurrency_lease_limits,
    concurrency_leases,
    concurrency_limits,
)

V1_LEASE_SECONDS = 100 * 365 * 24 * 3600.0


def _not_found(key: object) -> ObjectNotFound:
    return ObjectNotFound(f"Concurrency limit {str(key)!r} not found.")


async def to_tag_limit(
    connection: AsyncConnection, limit: ConcurrencyLimitV2
) -> ConcurrencyLimit:
    holders = await limits.read_holders(connection, limit.id)
    task_runs = [
        h.holder.id for h in holders if h.holder and h.holder.type == "task_run"
    ]
    return ConcurrencyLimit(
        id=limit.id,
        created=limit.created,
        updated=limit.updated,
        tag=limit.name.removeprefix(TAG_PREFIX),
        concurrency_limit=limit.limit,
        active_slots=task_runs,
    )


async def upsert_tag_limit(
    connection: AsyncConnection, body: ConcurrencyLimitCreate
) -> tuple[ConcurrencyLimit, bool]:
    """Create the tag's limit, or set the limit of the existing one; return it and `created`."""
    name = TAG_PREFIX + body.tag
    existing = await limits.read_limit_if_exists(connection, name)
    if existing is None:
        created = await limits.create_limit(
            connection,
            ConcurrencyLimitV2Create(name=name, limit=body.concurrency_limit),
        )
        return await to_tag_limit(connection, created), True
    await limits.update_limit(
        connection, existing.id, ConcurrencyLimitV2Update(limit=body.concurrency_limit)
    )
    return await to_tag_limit(
        connection, await limits.read_limit(connection, existing.id)
    ), False


async def read_tag_limit(
    connection: AsyncConnection, key: UUID | str
) -> ConcurrencyLimit:
    """Read a tag limit by id (a UUID) or by tag (a string)."""
    where = (
        concurrency_limits.c.id == key
        if isinstance(key, UUID)
        else (concurrency_limits.c.name == TAG_PREFIX + key)
    )
    row = (
        await connection.execute(
            sa.select(concurrency_limits.c.id, concurrency_limits.c.name).where(where)
        )
    ).first()
    if row is None or not row.name.startswith(TAG_PREFIX):
        raise _not_found(key)
    return await to_tag_limit(connection, await limits.read_limit(connection, row.id))


async def read_tag_limits(
    connection: AsyncConnection, limit: int | None, offset: int
) -> list[ConcurrencyLimit]:
    found = await limits.read_limits(connection, limit, offset, name_prefix=TAG_PREFIX)
    return [await to_tag_limit(connection, item) for item in found]


async def delete_tag_limit(connection: AsyncConnection, key: UUID | str) -> None:
    tag_limit = await read_tag_limit(connection, key)
    await limits.delete_limit(connection, tag_limit.id)


async def reset_tag_limit(
    connection: AsyncConnection,
    tag: str,
    slot_override: Sequence[UUID] | None,
    now: dt.datetime,
) -> None:
    """Release every slot of the tag's limit, then give one to each listed task run."""
    tag_limit = await read_tag_limit(connection, tag)
    await release_leases_where(connection, leases_on_limit(tag_limit.id), now)
    await limits.update_limit(
        connection, tag_limit.id, ConcurrencyLimitV2Update(active_slots=0)
    )
    for task_run_id in slot_override or []:
        await acquire_slots(
            connection,
            [TAG_PREFIX + tag],
            1,
            SlotMode.concurrency,
            now,
            lease_seconds=V1_LEASE_SECONDS,
            holder=ConcurrencyLeaseHolder(type="task_run", id=task_run_id),
        )


async def acquire_tag_slots(
    connection: AsyncConnection,
    tags: Sequence[str],
    task_run_id: UUID,
    now: dt.datetime,
) -> SlotGrant:
    """Take one slot of each tag's limit for a task run.

    A denial without `retry_after` means a tag's limit is 0, so waiting is
    pointless.
    """
    names = [TAG_PREFIX + tag for tag in tags]
    query = sa.select(concurrency_limits).where(
        concurrency_limits.c.name.in_(names),
        concurrency_limits.c.active.is_(True),
        concurrency_limits.c.limit == 0,
    )
    zero = (await connection.execute(query)).all()
    if zero:
        return SlotGrant(granted=False, limits=list(zero), retry_after=None)
    return await acquire_slots(
        connection,
        names,
        1,
        SlotMode.concurrency,
        now,
        lease_seconds=V1_LEASE_SECONDS,
        holder=ConcurrencyLeaseHolder(type="task_run", id=task_run_id),
    )


async def release_tag_slots(
    connection: AsyncConnection,
    tags: Sequence[str],
    task_run_id: UUID,
    now: dt.datetime,
) -> list[ConcurrencyLimitV2]:
    """Release the task run's leases on the tags' limits; return those limits."""
    names = [TAG_PREFIX + tag for tag in tags]
    rows = (
        (
            await connection.execute(
                sa.select(concurrency_limits.c.id).where(
                    concurrency_limits.c.name.in_(names)
                )
            )
        )
        .scalars()
        .all()
    )
    held = concurrency_leases.c.id.in_(
        sa.select(concurrency_lease_limits.c.lease_id).where(
            concurrency_lease_limits.c.limit_id.in_(rows)
        )
    )
    await release_leases_where(
        connection, sa.and_(held, concurrency_leases.c.holder_id == task_run_id), now
    )
    return [await limits.read_limit(connection, limit_id) for limit_id in rows]
