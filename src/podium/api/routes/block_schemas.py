"""Routes for `/block_schemas`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Body, Query, Response, status

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.schemas.blocks import BlockSchema, BlockSchemaCreate, BlockSchemaFilter
from podium.storage import block_schemas as storage

router = APIRouter(prefix="/block_schemas", tags=["Block schemas"])


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_block_schema(
    block_schema: BlockSchemaCreate, response: Response, db: DatabaseDep
) -> BlockSchema:
    """Create a block schema, or return the one with the same checksum with 200."""
    async with db.transaction() as connection:
        schema, created = await storage.create_block_schema(connection, block_schema)
    if not created:
        response.status_code = status.HTTP_200_OK
    return schema


@router.post("/filter")
async def read_block_schemas(
    db: DatabaseDep,
    block_schemas: BlockSchemaFilter | None = Body(None, embed=True),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[BlockSchema]:
    async with db.read() as connection:
        return await storage.read_block_schemas(
            connection, block_schemas, limit, offset
        )


@router.get("/checksum/{checksum}")
async def read_block_schema_by_checksum(
    checksum: str,
    db: DatabaseDep,
    version: str | None = Query(
        None, description="The schema version; default newest."
    ),
) -> BlockSchema:
    async with db.read() as connection:
        return await storage.read_block_schema_by_checksum(
            connection, checksum, version
        )


@router.get("/{id}")
async def read_block_schema(id: UUID, db: DatabaseDep) -> BlockSchema:  # noqa: A002
    async with db.read() as connection:
        return await storage.read_block_schema(connection, id)


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_block_schema(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.delete_block_schema(connection, id)
