"""Queries for saved searches."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import ObjectNotFound
from podium.schemas.saved_searches import SavedSearch, SavedSearchCreate
from podium.storage.tables import saved_searches


async def upsert_saved_search(
    connection: AsyncConnection, search: SavedSearchCreate
) -> tuple[SavedSearch, bool]:
    """Create the search, or replace the filters of the one with that name."""
    filters = [item.model_dump(mode="json") for item in search.filters]
    result = await connection.execute(
        sa.update(saved_searches)
        .where(saved_searches.c.name == search.name)
        .values(filters=filters)
    )
    created = result.rowcount == 0
    if created:
        await connection.execute(
            sa.insert(saved_searches).values(name=search.name, filters=filters)
        )
    query = sa.select(saved_searches).where(saved_searches.c.name == search.name)
    return SavedSearch.model_validate((await connection.execute(query)).one()), created


async def read_saved_search(
    connection: AsyncConnection, search_id: UUID
) -> SavedSearch:
    query = sa.select(saved_searches).where(saved_searches.c.id == search_id)
    row = (await connection.execute(query)).first()
    if row is None:
        raise ObjectNotFound(f"Saved search {search_id} not found.")
    return SavedSearch.model_validate(row)


async def read_saved_searches(
    connection: AsyncConnection, limit: int | None, offset: int
) -> list[SavedSearch]:
    query = (
        sa.select(saved_searches)
        .order_by(saved_searches.c.name)
        .limit(limit)
        .offset(offset)
    )
    return [SavedSearch.model_validate(row) for row in await connection.execute(query)]


async def delete_saved_search(connection: AsyncConnection, search_id: UUID) -> None:
    result = await connection.execute(
        sa.delete(saved_searches).where(saved_searches.c.id == search_id)
    )
    if result.rowcount == 0:
        raise ObjectNotFound(f"Saved search {search_id} not found.")
