"""Queries for block schemas.

A schema's identity is its checksum and version: creating a schema whose
checksum and version exist returns the existing one.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import Forbidden, ObjectNotFound
from podium.schemas.blocks import BlockSchema, BlockSchemaCreate, BlockSchemaFilter
from podium.storage.block_data import schema_checksum
from podium.storage.block_types import read_block_type
from podium.storage.filtering import Clause, JsonArray, compile_filter
from podium.storage.tables import block_schemas, block_types

# Schema columns plus the block type's, prefixed, for one joined read.
_TYPE_COLUMNS = [column.label(f"type_{column.name}") for column in block_types.c]
_SELECT = sa.select(block_schemas, *_TYPE_COLUMNS).join(
    block_types, block_types.c.id == block_schemas.c.block_type_id
)


def block_schema_criteria(flt: BlockSchemaFilter | None) -> Clause:
    return compile_filter(
        flt,
        {
            "id": block_schemas.c.id,
            "block_type_id": block_schemas.c.block_type_id,
            "block_capabilities": JsonArray(block_schemas.c.capabilities),
            "version": block_schemas.c.version,
        },
    )


def schema_from_row(row: Any) -> BlockSchema:
    """Build a schema with its block type from a row selected by `_SELECT`."""
    mapping = row._mapping
    block_type = {
        column.name: mapping[f"type_{column.name}"] for column in block_types.c
    }
    values = {column.name: mapping[column.name] for column in block_schemas.c}
    return BlockSchema.model_validate({**values, "block_type": block_type})


async def _read_one(
    connection: AsyncConnection, where: Clause, missing: str
) -> BlockSchema:
    query = _SELECT.where(where).order_by(block_schemas.c.created.desc()).limit(1)
    row = (await connection.execute(query)).first()
    if row is None:
        raise ObjectNotFound(missing)
    return schema_from_row(row)


async def read_block_schema(
    connection: AsyncConnection, schema_id: UUID
) -> BlockSchema:
    return await _read_one(
        connection,
        block_schemas.c.id == schema_id,
        f"Block schema {schema_id} not found.",
    )


async def read_block_schema_by_checksum(
    connection: AsyncConnection, checksum: str, version: str | None = None
) -> BlockSchema:
    """Read the schema of that checksum; the newest one when no version is given."""
    where = block_schemas.c.checksum == checksum
    if version is not None:
        where = sa.and_(where, block_schemas.c.version == version)
    missing = f"Block schema with checksum {checksum!r}"
    missing += f" and version {version!r} not found." if version else " not found."
    return await _read_one(connection, where, missing)


async def create_block_schema(
    connection: AsyncConnection, schema: BlockSchemaCreate, checksum: str | None = None
) -> tuple[BlockSchema, bool]:
    """Insert a schema unless its checksum and version exist; return it and `created`."""
    await read_block_type(connection, schema.block_type_id)
    checksum = checksum or schema_checksum(schema.fields)
    try:
        return await read_block_schema_by_checksum(
            connection, checksum, schema.version
        ), False
    except ObjectNotFound:
        pass
    await connection.execute(
        sa.insert(block_schemas).values(**schema.model_dump(), checksum=checksum)
    )
    return await read_block_schema_by_checksum(
        connection, checksum, schema.version
    ), True


async def read_block_schemas(
    connection: AsyncConnection,
    flt: BlockSchemaFilter | None,
    limit: int | None = None,
    offset: int = 0,
) -> list[BlockSchema]:
    query = (
        _SELECT.where(block_schema_criteria(flt))
        .order_by(block_schemas.c.created.desc(), block_schemas.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [schema_from_row(row) for row in await connection.execute(query)]


async def delete_block_schema(connection: AsyncConnection, schema_id: UUID) -> None:
    schema = await read_block_schema(connection, schema_id)
    if schema.block_type is not None and schema.block_type.is_protected:
        raise Forbidden("Block schemas of built-in block types cannot be deleted.")
    await connection.execute(
        sa.delete(block_schemas).where(block_schemas.c.id == schema_id)
    )


async def read_capabilities(connection: AsyncConnection) -> list[str]:
    """Return every capability that some block schema declares, sorted."""
    rows = await connection.execute(sa.select(block_schemas.c.capabilities))
    found = {
        capability for (capabilities,) in rows for capability in capabilities or []
    }
    return sorted(found)
