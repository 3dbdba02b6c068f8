"""Routes for `/block_documents`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Body, Query, status

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.schemas.blocks import (
    BlockDocument,
    BlockDocumentCreate,
    BlockDocumentFilter,
    BlockDocumentSort,
    BlockDocumentUpdate,
    BlockSchemaFilter,
    BlockTypeFilter,
)
from podium.storage import block_documents as storage

router = APIRouter(prefix="/block_documents", tags=["Block documents"])


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_block_document(
    block_document: BlockDocumentCreate, db: DatabaseDep
) -> BlockDocument:
    async with db.transaction() as connection:
        return await storage.create_block_document(connection, block_document)


@router.post("/filter")
async def read_block_documents(
    db: DatabaseDep,
    block_documents: BlockDocumentFilter | None = Body(None),
    block_types: BlockTypeFilter | None = Body(None),
    block_schemas: BlockSchemaFilter | None = Body(None),
    include_secrets: bool = Body(False),
    sort: BlockDocumentSort | None = Body(BlockDocumentSort.NAME_ASC),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[BlockDocument]:
    where = storage.block_documents_where(block_documents, block_schemas, block_types)
    async with db.read() as connection:
        return await storage.read_block_documents(
            connection,
            where,
            sort or BlockDocumentSort.NAME_ASC,
            limit,
            offset,
            include_secrets,
        )


@router.post("/count")
async def count_block_documents(
    db: DatabaseDep,
    block_documents: BlockDocumentFilter | None = Body(None),
    block_types: BlockTypeFilter | None = Body(None),
    block_schemas: BlockSchemaFilter | None = Body(None),
) -> int:
    where = storage.block_documents_where(block_documents, block_schemas, block_types)
    async with db.read() as connection:
        return await storage.count_block_documents(connection, where)


@router.get("/{id}")
async def read_block_document(
    id: UUID,  # noqa: A002 - contract name
    db: DatabaseDep,
    include_secrets: bool = Query(
        False, description="Return secret values instead of a mask."
    ),
) -> BlockDocument:
    async with db.read() as connection:
        return await storage.read_block_document(connection, id, include_secrets)


@router.patch("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def update_block_document(
    id: UUID,  # noqa: A002
    block_document: BlockDocumentUpdate,
    db: DatabaseDep,
) -> None:
    async with db.transaction() as connection:
        await storage.update_block_document(connection, id, block_document)


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_block_document(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.delete_block_document(connection, id)
