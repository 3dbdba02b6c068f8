"""Queries for global concurrency limits: create, read, update, delete.

Slot accounting (increment, decrement, leases) lives in
`podium.storage.concurrency_slots`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import ObjectAlreadyExists, ObjectNotFound
from podium.schemas.concurrency_limits import (
    ConcurrencyLeaseHolder,
    ConcurrencyLimitV2,
    ConcurrencyLimitV2Create,
    ConcurrencyLimitV2Update,
    GlobalConcurrencyLimitResponse,
    LeaseInfo,
)
from podium.storage.concurrency_slots import (
    decayed_slots,
    leases_on_limit,
    release_leases_where,
)
from podium.storage.filtering import Clause
from podium.storage.tables import (
    concurrency_lease_limits,
    concurrency_leases,
    concurrency_limits,
)
from podium.storage.tables.base import utcnow


def limit_where(id_or_name: str | UUID) -> Clause:
    """Match a limit by id when the value parses as a UUID, else by name."""
    if isinstance(id_or_name, UUID):
        return concurrency_limits.c.id == id_or_name
    try:
        return concurrency_limits.c.id == UUID(id_or_name)
    except ValueError:
        return concurrency_limits.c.name == id_or_name


def to_limit(row: Any, now: dt.datetime) -> ConcurrencyLimitV2:
    """Build the wire model from a row, with slots decayed as of `now`."""
    values = dict(row._mapping)
    active, denied = decayed_slots(values, now)
    values["active_slots"] = int(active)
    values["denied_slots"] = int(denied)
    return ConcurrencyLimitV2.model_validate(values)


async def _ensure_name_free(connection: AsyncConnection, name: str) -> None:
    found = await connection.execute(
        sa.select(concurrency_limits.c.id).where(concurrency_limits.c.name == name)
    )
    if found.first() is not None:
        raise ObjectAlreadyExists(f"A concurrency limit named {name!r} already exists.")


async def create_limit(
    connection: AsyncConnection, limit: ConcurrencyLimitV2Create
) -> ConcurrencyLimitV2:
    await _ensure_name_free(connection, limit.name)
    now = utcnow()
    statement = (
        sa.insert(concurrency_limits)
        .values(**limit.model_dump(), slots_updated=now)
        .returning(*concurrency_limits.c)
    )
    return to_limit((await connection.execute(statement)).one(), now)


async def read_limit(
    connection: AsyncConnection, id_or_name: str | UUID
) -> ConcurrencyLimitV2:
    query = sa.select(concurrency_limits).where(limit_where(id_or_name))
    row = (await connection.execute(query)).first()
    if row is None:
        raise ObjectNotFound(f"Concurrency limit {str(id_or_name)!r} not found.")
    return to_limit(row, utcnow())


async def read_limit_if_exists(
    connection: AsyncConnection, id_or_name: str | UUID
) -> ConcurrencyLimitV2 | None:
    try:
        return await read_limit(connection, id_or_name)
    except ObjectNotFound:
        return None


async def read_holders(
    connection: AsyncConnection, limit_id: UUID, now: dt.datetime | None = None
) -> list[LeaseInfo]:
    """List the unexpired leases that hold slots of one limit, oldest first."""
    now = now or utcnow()
    query = (
        sa.select(concurrency_leases)
        .join(
            concurrency_lease_limits,
            concurrency_lease_limits.c.lease_id == concurrency_leases.c.id,
        )
        .where(
            concurrency_lease_limits.c.limit_id == limit_id,
            concurrency_leases.c.expires_at > now,
        )
        .order_by(concurrency_leases.c.created, concurrency_leases.c.id)
    )
    return [
        LeaseInfo(
            lease_id=row.id,
            slots=row.slots,
            holder=ConcurrencyLeaseHolder.model_validate(row.holder)
            if row.holder
            else None,
            expires_at=row.expires_at,
        )
        for row in await connection.execute(query)
    ]


async def read_limit_with_holders(
    connection: AsyncConnection, id_or_name: str | UUID
) -> GlobalConcurrencyLimitResponse:
    limit = await read_limit(connection, id_or_name)
    holders = await read_holders(connection, limit.id)
    return GlobalConcurrencyLimitResponse(**limit.model_dump(), holders=holders)


async def read_limits(
    connection: AsyncConnection,
    limit: int | None = None,
    offset: int = 0,
    name_prefix: str | None = None,
) -> list[ConcurrencyLimitV2]:
    query = sa.select(concurrency_limits).order_by(concurrency_limits.c.name)
    if name_prefix is not None:
        query = query.where(
            concurrency_limits.c.name.startswith(name_prefix, autoescape=True)
        )
    now = utcnow()
    rows = await connection.execute(query.limit(limit).offset(offset))
    return [to_limit(row, now) for row in rows]


async def update_limit(
    connection: AsyncConnection,
    id_or_name: str | UUID,
    update: ConcurrencyLimitV2Update,
) -> None:
    current = await read_limit(connection, id_or_name)
    values = update.model_dump(exclude_unset=True)
    if values.get("name") is not None and values["name"] != current.name:
        await _ensure_name_free(connection, values["name"])
    for field in ("active", "name", "limit", "slot_decay_per_second"):
        if field in values and values[field] is None:
            values.pop(field)
    if "active_slots" in values or "denied_slots" in values:
        # Start decay afresh from the values written now.
        values.setdefault("active_slots", current.active_slots)
        values.setdefault("denied_slots", current.denied_slots)
        values["slots_updated"] = utcnow()
    if values:
        await connection.execute(
            sa.update(concurrency_limits)
            .where(concurrency_limits.c.id == current.id)
            .values(**values)
        )


async def delete_limit(connection: AsyncConnection, id_or_name: str | UUID) -> None:
    """Delete a limit after releasing the leases that hold its slots."""
    current = await read_limit(connection, id_or_name)
    await release_leases_where(connection, leases_on_limit(current.id), utcnow())
    await connection.execute(
        sa.delete(concurrency_limits).where(concurrency_limits.c.id == current.id)
    )
