"""Routes for `/saved_searches`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.schemas.saved_searches import SavedSearch, SavedSearchCreate
from podium.storage import saved_searches as storage

router = APIRouter(prefix="/saved_searches", tags=["SavedSearches"])


@router.put("/")
async def create_saved_search(
    saved_search: SavedSearchCreate, response: Response, db: DatabaseDep
) -> SavedSearch:
    """Create a saved search (201) or replace the filters of the same name (200)."""
    async with db.transaction() as connection:
        result, created = await storage.upsert_saved_search(connection, saved_search)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return result


@router.post("/filter")
async def read_saved_searches(
    db: DatabaseDep, limit: int = LimitBody(), offset: int = OffsetBody()
) -> list[SavedSearch]:
    async with db.read() as connection:
        return await storage.read_saved_searches(connection, limit, offset)


@router.get("/{id}")
async def read_saved_search(id: UUID, db: DatabaseDep) -> SavedSearch:  # noqa: A002
    async with db.read() as connection:
        return await storage.read_saved_search(connection, id)


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_saved_search(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.delete_saved_search(connection, id)
