"""Routes for `/block_types`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Body, Query, status

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.schemas.blocks import (
    BlockDocument,
    BlockDocumentFilter,
    BlockDocumentFilterBlockTypeId,
    BlockSchemaFilter,
    BlockType,
    BlockTypeCreate,
    BlockTypeFilter,
    BlockTypeUpdate,
)
from podium.storage import block_documents, block_types
from podium.storage.system_blocks import register_system_blocks

router = APIRouter(prefix="/block_types", tags=["Block types"])

IncludeSecrets = Query(False, description="Return secret values instead of a mask.")


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_block_type(block_type: BlockTypeCreate, db: DatabaseDep) -> BlockType:
    async with db.transaction() as connection:
        return await block_types.create_block_type(connection, block_type)


@router.post("/filter")
async def read_block_types(
    db: DatabaseDep,
    block_types_filter: BlockTypeFilter | None = Body(None, alias="block_types"),
    block_schemas: BlockSchemaFilter | None = Body(None),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[BlockType]:
    async with db.read() as connection:
        return await block_types.read_block_types(
            connection, block_types_filter, block_schemas, limit, offset
        )


@router.post("/install_system_block_types")
async def install_system_block_types(db: DatabaseDep) -> None:
    async with db.transaction() as connection:
        await register_system_blocks(connection)


@router.get("/slug/{slug}")
async def read_block_type_by_slug(slug: str, db: DatabaseDep) -> BlockType:
    async with db.read() as connection:
        return await block_types.read_block_type_by_slug(connection, slug)


@router.get("/slug/{slug}/block_documents", tags=["Block documents"])
async def read_block_documents_for_block_type(
    slug: str, db: DatabaseDep, include_secrets: bool = IncludeSecrets
) -> list[BlockDocument]:
    async with db.read() as connection:
        block_type = await block_types.read_block_type_by_slug(connection, slug)
        documents = BlockDocumentFilter(
            block_type_id=BlockDocumentFilterBlockTypeId(any_=[block_type.id])
        )
        return await block_documents.read_block_documents(
            connection,
            block_documents.block_documents_where(documents),
            include_secrets=include_secrets,
        )


@router.get(
    "/slug/{slug}/block_documents/name/{block_document_name}", tags=["Block documents"]
)
async def read_block_document_by_name_for_block_type(
    slug: str,
    block_document_name: str,
    db: DatabaseDep,
    include_secrets: bool = IncludeSecrets,
) -> BlockDocument:
    async with db.read() as connection:
        return await block_documents.read_block_document_by_name(
            connection, slug, block_document_name, include_secrets
        )


@router.get("/{id}")
async def read_block_type(id: UUID, db: DatabaseDep) -> BlockType:  # noqa: A002 - contract name
    async with db.read() as connection:
        return await block_types.read_block_type(connection, id)


@router.patch("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def update_block_type(
    id: UUID,  # noqa: A002
    block_type: BlockTypeUpdate,
    db: DatabaseDep,
) -> None:
    async with db.transaction() as connection:
        await block_types.update_block_type(connection, id, block_type)


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_block_type(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await block_types.delete_block_type(connection, id)
