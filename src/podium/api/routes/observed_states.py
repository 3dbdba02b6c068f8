"""Routes for `/observed-states`."""

from __future__ import annotations

from fastapi import APIRouter, Query

from podium.api.dependencies import MAX_LIMIT, DatabaseDep
from podium.schemas.observed_states import ObservedState, ObservedStateSort
from podium.storage import observed_states as storage

router = APIRouter(prefix="/observed-states", tags=["Observed States"])


@router.get("")
async def read_observed_states(
    db: DatabaseDep,
    query: str | None = Query(None, max_length=100),
    order_by: ObservedStateSort = Query(ObservedStateSort.LAST_SEEN_DESC),
    limit: int = Query(MAX_LIMIT, ge=1, le=MAX_LIMIT),
) -> list[ObservedState]:
    """List the state types and names that runs have entered, with when."""
    async with db.read() as connection:
        return await storage.read_observed_states(connection, query, order_by, limit)
