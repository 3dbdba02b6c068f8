"""Routes for `/block_capabilities`."""

from __future__ import annotations

from fastapi import APIRouter

from podium.api.dependencies import DatabaseDep
from podium.storage import block_schemas as storage

router = APIRouter(prefix="/block_capabilities", tags=["Block capabilities"])


@router.get("/")
async def read_available_block_capabilities(db: DatabaseDep) -> list[str]:
    async with db.read() as connection:
        return await storage.read_capabilities(connection)
