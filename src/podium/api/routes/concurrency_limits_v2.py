"""Routes for `/v2/concurrency_limits`: global limits, slots and leases."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Body, HTTPException, Path, status

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.schemas.concurrency_limits import (
    ConcurrencyLeaseHolder,
    ConcurrencyLimitV2,
    ConcurrencyLimitV2Create,
    ConcurrencyLimitV2Update,
    ConcurrencyLimitWithLeaseResponse,
    GlobalConcurrencyLimitResponse,
    MinimalConcurrencyLimitResponse,
    SlotMode,
)
from podium.storage import concurrency_limits as limits
from podium.storage import concurrency_slots as slots_storage
from podium.storage.concurrency_slots import SlotGrant
from podium.storage.tables import concurrency_limits as limits_table
from podium.storage.tables.base import utcnow

router = APIRouter(prefix="/v2/concurrency_limits", tags=["Concurrency Limits V2"])

IdOrName = Path(description="The limit's id or name.")
LeaseDuration = Body(
    300, ge=60, le=86400, description="Seconds until the lease expires."
)


def minimal(rows: list[Any]) -> list[MinimalConcurrencyLimitResponse]:
    return [
        MinimalConcurrencyLimitResponse(id=r.id, name=r.name, limit=r.limit)
        for r in rows
    ]


def locked(grant: SlotGrant) -> HTTPException:
    """Build the 423 response for a denied request.

    Clients retry after `Retry-After` seconds.
    """
    return HTTPException(
        status_code=status.HTTP_423_LOCKED,
        detail="No slot is free on the requested concurrency limits. Retry after the Retry-After seconds.",
        headers={"Retry-After": f"{grant.retry_after or 1.0:.3f}"},
    )


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_concurrency_limit_v2(
    concurrency_limit: ConcurrencyLimitV2Create, db: DatabaseDep
) -> ConcurrencyLimitV2:
    async with db.transaction() as connection:
        return await limits.create_limit(connection, concurrency_limit)


@router.post("/filter")
async def read_all_concurrency_limits_v2(
    db: DatabaseDep, limit: int = LimitBody(), offset: int = OffsetBody()
) -> list[GlobalConcurrencyLimitResponse]:
    async with db.read() as connection:
        found = await limits.read_limits(connection, limit, offset)
        return [
            GlobalConcurrencyLimitResponse(
                **item.model_dump(),
                holders=await limits.read_holders(connection, item.id),
            )
            for item in found
        ]


@router.post("/increment")
async def bulk_increment_active_slots(
    db: DatabaseDep,
    slots: int = Body(..., gt=0),
    names: list[str] = Body(..., min_length=1),
    mode: SlotMode = Body(SlotMode.concurrency),
    create_if_missing: bool | None = Body(None, deprecated=True),
) -> list[MinimalConcurrencyLimitResponse]:
    async with db.transaction() as connection:
        grant = await slots_storage.acquire_slots(
            connection, names, slots, mode, utcnow()
        )
    if not grant.granted:
        raise locked(grant)
    return minimal(grant.limits)


@router.post("/increment-with-lease")
async def bulk_increment_active_slots_with_lease(
    db: DatabaseDep,
    slots: int = Body(..., gt=0),
    names: list[str] = Body(..., min_length=1),
    mode: SlotMode = Body(SlotMode.concurrency),
    lease_duration: float = LeaseDuration,
    holder: ConcurrencyLeaseHolder | None = Body(None),
) -> ConcurrencyLimitWithLeaseResponse:
    async with db.transaction() as connection:
        grant = await slots_storage.acquire_slots(
            connection, names, slots, mode, utcnow(), lease_duration, holder
        )
    if not grant.granted:
        raise locked(grant)
    assert grant.lease_id is not None
    return ConcurrencyLimitWithLeaseResponse(
        lease_id=grant.lease_id, limits=minimal(grant.limits)
    )


@router.post("/decrement")
async def bulk_decrement_active_slots(
    db: DatabaseDep,
    slots: int = Body(..., gt=0),
    names: list[str] = Body(..., min_length=1),
    occupancy_seconds: float | None = Body(None, gt=0),
    create_if_missing: bool | None = Body(None, deprecated=True),
) -> list[MinimalConcurrencyLimitResponse]:
    where = limits_table.c.name.in_(names) & limits_table.c.active.is_(True)
    async with db.transaction() as connection:
        released = await slots_storage.release_slots(
            connection, where, slots, utcnow(), occupancy_seconds
        )
    return minimal(released)


@router.post("/decrement-with-lease", status_code=status.HTTP_204_NO_CONTENT)
async def bulk_decrement_active_slots_with_lease(
    db: DatabaseDep, lease_id: UUID = Body(..., embed=True)
) -> None:
    """Release a lease's slots; an unknown or expired lease is not an error."""
    async with db.transaction() as connection:
        await slots_storage.release_lease(connection, lease_id, utcnow())


@router.post("/leases/{lease_id}/renew", status_code=status.HTTP_204_NO_CONTENT)
async def renew_concurrency_lease(
    lease_id: UUID,
    db: DatabaseDep,
    lease_duration: float = Body(300, ge=60, le=86400, embed=True),
) -> None:
    async with db.transaction() as connection:
        renewed = await slots_storage.renew_lease(
            connection, lease_id, lease_duration, utcnow()
        )
    if not renewed:
        raise HTTPException(
            status_code=status.HTTP_410_GONE,
            detail=f"Lease {lease_id} not found; it expired or was released.",
        )


@router.get("/{id_or_name}")
async def read_concurrency_limit_v2(
    db: DatabaseDep, id_or_name: str = IdOrName
) -> GlobalConcurrencyLimitResponse:
    async with db.read() as connection:
        return await limits.read_limit_with_holders(connection, id_or_name)


@router.patch("/{id_or_name}", status_code=status.HTTP_204_NO_CONTENT)
async def update_concurrency_limit_v2(
    concurrency_limit: ConcurrencyLimitV2Update,
    db: DatabaseDep,
    id_or_name: str = IdOrName,
) -> None:
    async with db.transaction() as connection:
        await limits.update_limit(connection, id_or_name, concurrency_limit)


@router.delete("/{id_or_name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_concurrency_limit_v2(
    db: DatabaseDep, id_or_name: str = IdOrName
) -> None:
    async with db.transaction() as connection:
        await limits.delete_limit(connection, id_or_name)
