"""Routes for `/concurrency_limits`: tag limits, the v1 API over global limits."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Body, HTTPException, Response, status

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.api.routes.concurrency_limits_v2 import locked, minimal
from podium.schemas.concurrency_limits import (
    TAG_PREFIX,
    ConcurrencyLimit,
    ConcurrencyLimitCreate,
    MinimalConcurrencyLimitResponse,
)
from podium.storage import concurrency_tags as storage
from podium.storage.tables.base import utcnow

router = APIRouter(prefix="/concurrency_limits", tags=["Concurrency Limits"])


@router.post("/")
async def create_concurrency_limit(
    concurrency_limit: ConcurrencyLimitCreate, response: Response, db: DatabaseDep
) -> ConcurrencyLimit:
    """Create the tag's limit (201) or change the existing one's limit (200)."""
    async with db.transaction() as connection:
        result, created = await storage.upsert_tag_limit(connection, concurrency_limit)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return result


@router.post("/filter")
async def read_concurrency_limits(
    db: DatabaseDep, limit: int = LimitBody(), offset: int = OffsetBody()
) -> list[ConcurrencyLimit]:
    async with db.read() as connection:
        return await storage.read_tag_limits(connection, limit, offset)


@router.post("/increment")
async def increment_concurrency_limits_v1(
    db: DatabaseDep,
    names: list[str] = Body(..., description="The tags to take a slot of."),
    task_run_id: UUID = Body(..., description="The task run that takes the slots."),
) -> list[MinimalConcurrencyLimitResponse]:
    async with db.transaction() as connection:
        grant = await storage.acquire_tag_slots(
            connection, names, task_run_id, utcnow()
        )
    if not grant.granted and grant.retry_after is None:
        tag = grant.limits[0].name.removeprefix(TAG_PREFIX)
        # No Retry-After: waiting on a limit of 0 would never end.
        raise HTTPException(
            status_code=status.HTTP_423_LOCKED,
            detail=f"The concurrency limit on tag {tag!r} is 0, so the task can never run.",
        )
    if not grant.granted:
        raise locked(grant)
    return [
        MinimalConcurrencyLimitResponse(
            id=row.id, name=row.name.removeprefix(TAG_PREFIX), limit=row.limit
        )
        for row in grant.limits
        if row.active
    ]


@router.post("/decrement")
async def decrement_concurrency_limits_v1(
    db: DatabaseDep,
    names: list[str] = Body(..., description="The tags to release a slot of."),
    task_run_id: UUID = Body(..., description="The task run that holds the slots."),
) -> list[MinimalConcurrencyLimitResponse]:
    async with db.transaction() as connection:
        released = await storage.release_tag_slots(
            connection, names, task_run_id, utcnow()
        )
    return minimal(released)


@router.get("/tag/{tag}")
async def read_concurrency_limit_by_tag(tag: str, db: DatabaseDep) -> ConcurrencyLimit:
    async with db.read() as connection:
        return await storage.read_tag_limit(connection, tag)


@router.post("/tag/{tag}/reset")
async def reset_concurrency_limit_by_tag(
    tag: str,
    db: DatabaseDep,
    slot_override: list[UUID] | None = Body(None, embed=True),
) -> None:
    async with db.transaction() as connection:
        await storage.reset_tag_limit(connection, tag, slot_override, utcnow())


@router.delete("/tag/{tag}")
async def delete_concurrency_limit_by_tag(tag: str, db: DatabaseDep) -> None:
    async with db.transaction() as connection:
        await storage.delete_tag_limit(connection, tag)


@router.get("/{id}")
async def read_concurrency_limit(id: UUID, db: DatabaseDep) -> ConcurrencyLimit:  # noqa: A002
    async with db.read() as connection:
        return await storage.read_tag_limit(connection, id)


@router.delete("/{id}")
async def delete_concurrency_limit(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.delete_tag_limit(connection, id)
