"""Queries for block types."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import Forbidden, ObjectAlreadyExists, ObjectNotFound
from podium.schemas.blocks import (
    BlockSchemaFilter,
    BlockType,
    BlockTypeCreate,
    BlockTypeFilter,
    BlockTypeUpdate,
)
from podium.storage.filtering import Clause, compile_filter
from podium.storage.tables import block_schemas, block_types

RESERVED_NAME_PREFIX = "prefect"


def block_type_criteria(flt: BlockTypeFilter | None) -> Clause:
    return compile_filter(flt, {"name": block_types.c.name, "slug": block_types.c.slug})


async def create_block_type(
    connection: AsyncConnection, block_type: BlockTypeCreate, protected: bool = False
) -> BlockType:
    if not protected and block_type.name.lower().startswith(RESERVED_NAME_PREFIX):
        raise Forbidden("Block type names beginning with 'Prefect' are reserved.")
    taken = await connection.execute(
        sa.select(block_types.c.id).where(
            sa.or_(
                block_types.c.slug == block_type.slug,
                block_types.c.name == block_type.name,
            )
        )
    )
    if taken.first() is not None:
        raise ObjectAlreadyExists(
            f"A block type named {block_type.name!r} or with slug "
            f"{block_type.slug!r} already exists."
        )
    statement = (
        sa.insert(block_types)
        .values(**block_type.model_dump(), is_protected=protected)
        .returning(*block_types.c)
    )
    return BlockType.model_validate((await connection.execute(statement)).one())


async def read_block_type(
    connection: AsyncConnection, block_type_id: UUID
) -> BlockType:
    query = sa.select(block_types).where(block_types.c.id == block_type_id)
    row = (await connection.execute(query)).first()
    if row is None:
        raise ObjectNotFound(f"Block type {block_type_id} not found.")
    return BlockType.model_validate(row)


async def read_block_type_by_slug(connection: AsyncConnection, slug: str) -> BlockType:
    query = sa.select(block_types).where(block_types.c.slug == slug)
    row = (await connection.execute(query)).first()
    if row is None:
        raise ObjectNotFound(f"Block type {slug!r} not found.")
    return BlockType.model_validate(row)


async def read_block_types(
    connection: AsyncConnection,
    type_filter: BlockTypeFilter | None,
    schema_filter: BlockSchemaFilter | None,
    limit: int | None = None,
    offset: int = 0,
) -> list[BlockType]:
    # Imported here because `block_schemas` imports this module.
    from podium.storage.block_schemas import block_schema_criteria

    where = block_type_criteria(type_filter)
    if schema_filter is not None:
        matching = sa.select(block_schemas.c.block_type_id).where(
            block_schema_criteria(schema_filter)
        )
        where = sa.and_(where, block_types.c.id.in_(matching))
    query = (
        sa.select(block_types)
        .where(where)
        .order_by(block_types.c.name)
        .limit(limit)
        .offset(offset)
    )
    return [BlockType.model_validate(row) for row in await connection.execute(query)]


async def update_block_type(
    connection: AsyncConnection, block_type_id: UUID, update: BlockTypeUpdate
) -> None:
    await read_block_type(connection, block_type_id)
    values = update.model_dump(exclude_unset=True)
    if values:
        await connection.execute(
            sa.update(block_types)
            .where(block_types.c.id == block_type_id)
            .values(**values)
        )


async def delete_block_type(connection: AsyncConnection, block_type_id: UUID) -> None:
    current = await read_block_type(connection, block_type_id)
    if current.is_protected:
        raise Forbidden(
            f"Block type {current.slug!r} is built in and cannot be deleted."
        )
    await connection.execute(
        sa.delete(block_types).where(block_types.c.id == block_type_id)
    )
