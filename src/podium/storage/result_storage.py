"""The server's default result storage block, kept in the `configuration` table."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import InvalidRequest, ObjectNotFound
from podium.schemas.admin import ServerDefaultResultStorage
from podium.storage import dialect
from podium.storage.tables import block_documents, block_schemas, configuration
from podium.storage.tables.base import utcnow

KEY = "server-default-result-storage"

# Block schemas with this capability can write results (Prefect 3.9.1 checks
# the same capability before accepting a default result storage block).
WRITE_CAPABILITY = "write-path"


async def read_default_result_storage(
    connection: AsyncConnection,
) -> ServerDefaultResultStorage:
    """Return the stored block id, or none once that block document is deleted."""
    stored = (
        await connection.execute(
            sa.select(configuration.c.value).where(configuration.c.key == KEY)
        )
    ).scalar()
    block_id = (stored or {}).get("default_result_storage_block_id")
    if block_id is None:
        return ServerDefaultResultStorage()
    exists = await connection.execute(
        sa.select(block_documents.c.id).where(block_documents.c.id == UUID(block_id))
    )
    if exists.first() is None:
        return ServerDefaultResultStorage()
    return ServerDefaultResultStorage(default_result_storage_block_id=block_id)


async def write_default_result_storage(
    connection: AsyncConnection, block_document_id: UUID
) -> ServerDefaultResultStorage:
    """Store the block after checking that it exists and can write results."""
    query = (
        sa.select(block_schemas.c.capabilities)
        .select_from(
            block_documents.join(
                block_schemas, block_schemas.c.id == block_documents.c.block_schema_id
            )
        )
        .where(block_documents.c.id == block_document_id)
    )
    capabilities = (await connection.execute(query)).scalar()
    if capabilities is None:
        raise ObjectNotFound(f"Block document {block_document_id} not found.")
    if WRITE_CAPABILITY not in capabilities:
        raise InvalidRequest(
            f"Block document {block_document_id} cannot store results: its block "
            f"schema lacks the {WRITE_CAPABILITY!r} capability."
        )

    value = ServerDefaultResultStorage(
        default_result_storage_block_id=block_document_id
    )
    statement = dialect.insert(connection, configuration).values(
        key=KEY, value=value.model_dump(mode="json")
    )
    statement = statement.on_conflict_do_update(
        index_elements=[configuration.c.key],
        set_={"value": statement.excluded.value, "updated": utcnow()},
    )
    await connection.execute(statement)
    return value


async def clear_default_result_storage(connection: AsyncConnection) -> None:
    await connection.execute(sa.delete(configuration).where(configuration.c.key == KEY))
