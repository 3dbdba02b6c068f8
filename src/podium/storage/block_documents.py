"""Queries for block documents and the references between them.

A document's data may hold other documents as `{"$ref": {"block_document_id":
ID}}`. Those fields are stored as rows of `block_document_references`, not in
the data, and reads put each child's data back in place (with the child's own
secrets masked) and describe the child under `block_document_references`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import InvalidRequest, ObjectAlreadyExists, ObjectNotFound
from podium.schemas.blocks import (
    BlockDocument,
    BlockDocumentCreate,
    BlockDocumentFilter,
    BlockDocumentSort,
    BlockDocumentUpdate,
    BlockSchemaFilter,
    BlockTypeFilter,
)
from podium.storage.block_data import (
    keep_masked_secrets,
    mask_secrets,
    split_references,
)
from podium.storage.block_schemas import (
    _TYPE_COLUMNS,
    block_schema_criteria,
    read_block_schema,
    schema_from_row,
)
from podium.storage.block_types import block_type_criteria
from podium.storage.filtering import Clause, compile_filter
from podium.storage.tables import (
    block_document_references,
    block_documents,
    block_schemas,
    block_types,
)

# Deeper nesting than this is treated as a reference cycle.
MAX_REFERENCE_DEPTH = 10

_DOCUMENT_COLUMNS = [column.label(f"doc_{column.name}") for column in block_documents.c]
_SELECT = (
    sa.select(*_DOCUMENT_COLUMNS, block_schemas, *_TYPE_COLUMNS)
    .select_from(block_documents)
    .join(block_schemas, block_schemas.c.id == block_documents.c.block_schema_id)
    .join(block_types, block_types.c.id == block_documents.c.block_type_id)
)

SORTS: dict[BlockDocumentSort, list[Any]] = {
    BlockDocumentSort.NAME_ASC: [block_documents.c.name.asc()],
    BlockDocumentSort.NAME_DESC: [block_documents.c.name.desc()],
    BlockDocumentSort.BLOCK_TYPE_AND_NAME_ASC: [
        block_types.c.name.asc(),
        block_documents.c.name.asc(),
    ],
}


def block_document_criteria(flt: BlockDocumentFilter | None) -> Clause:
    return compile_filter(
        flt,
        {
            "id": block_documents.c.id,
            "is_anonymous": block_documents.c.is_anonymous,
            "block_type_id": block_documents.c.block_type_id,
            "name": block_documents.c.name,
        },
    )


def block_documents_where(
    documents: BlockDocumentFilter | None = None,
    schemas: BlockSchemaFilter | None = None,
    types: BlockTypeFilter | None = None,
) -> Clause:
    """Combine the three filters of `/block_documents/filter`.

    With no document filter, anonymous documents are left out, as with an
    explicit filter that does not set `is_anonymous` otherwise.
    """
    documents = documents or BlockDocumentFilter()
    return sa.and_(
        block_document_criteria(documents),
        block_schema_criteria(schemas),
        block_type_criteria(types),
    )


async def _child_references(
    connection: AsyncConnection, parent_id: UUID
) -> list[tuple[str, UUID]]:
    query = sa.select(
        block_document_references.c.name,
        block_document_references.c.reference_block_document_id,
    ).where(block_document_references.c.parent_block_document_id == parent_id)
    return [(name, child_id) for name, child_id in await connection.execute(query)]


async def _build(
    connection: AsyncConnection, row: Any, include_secrets: bool, depth: int = 0
) -> BlockDocument:
    if depth > MAX_REFERENCE_DEPTH:
        raise InvalidRequest("Block document references are nested too deeply.")
    mapping = row._mapping
    schema = schema_from_row(row)
    data: dict[str, Any] = dict(mapping["doc_data"] or {})
    if not include_secrets:
        data = mask_secrets(data, schema.fields.get("secret_fields", []))
    references: dict[str, dict[str, Any]] = {}
    for name, child_id in await _child_references(connection, mapping["doc_id"]):
        child_row = await _read_row(connection, block_documents.c.id == child_id)
        if child_row is None:
            continue
        child = await _build(connection, child_row, include_secrets, depth + 1)
        data[name] = child.data
        references[name] = {
            "block_document": {
                "id": child.id,
                "name": child.name,
                "block_type": child.block_type,
                "is_anonymous": child.is_anonymous,
                "block_document_references": child.block_document_references,
            }
        }
    return BlockDocument(
        id=mapping["doc_id"],
        created=mapping["doc_created"],
        updated=mapping["doc_updated"],
        name=mapping["doc_name"],
        data=data,
        block_schema_id=schema.id,
        block_schema=schema,
        block_type_id=mapping["doc_block_type_id"],
        block_type_name=schema.block_type.name if schema.block_type else None,
        block_type=schema.block_type,
        block_document_references=references,
        is_anonymous=mapping["doc_is_anonymous"],
    )


async def _read_row(connection: AsyncConnection, where: Clause) -> Any:
    return (await connection.execute(_SELECT.where(where))).first()


async def read_block_document(
    connection: AsyncConnection, document_id: UUID, include_secrets: bool = False
) -> BlockDocument:
    row = await _read_row(connection, block_documents.c.id == document_id)
    if row is None:
        raise ObjectNotFound(f"Block document {document_id} not found.")
    return await _build(connection, row, include_secrets)


async def read_block_document_by_name(
    connection: AsyncConnection, slug: str, name: str, include_secrets: bool = False
) -> BlockDocument:
    where = sa.and_(block_types.c.slug == slug, block_documents.c.name == name)
    row = await _read_row(connection, where)
    if row is None:
        raise ObjectNotFound(
            f"Block document {name!r} of block type {slug!r} not found."
        )
    return await _build(connection, row, include_secrets)


async def read_block_documents(
    connection: AsyncConnection,
    where: Clause,
    sort: BlockDocumentSort = BlockDocumentSort.NAME_ASC,
    limit: int | None = None,
    offset: int = 0,
    include_secrets: bool = False,
) -> list[BlockDocument]:
    query = _SELECT.where(where).order_by(*SORTS[sort]).limit(limit).offset(offset)
    rows = (await connection.execute(query)).all()
    return [await _build(connection, row, include_secrets) for row in rows]


async def count_block_documents(connection: AsyncConnection, where: Clause) -> int:
    query = sa.select(sa.func.count()).select_from(_SELECT.where(where).subquery())
    return int((await connection.execute(query)).scalar_one())


async def _write_references(
    connection: AsyncConnection, parent_id: UUID, references: dict[str, UUID]
) -> None:
    await connection.execute(
        sa.delete(block_document_references).where(
            block_document_references.c.parent_block_document_id == parent_id
        )
    )
    for name, child_id in references.items():
        if child_id == parent_id or await _reaches(connection, child_id, parent_id):
            raise InvalidRequest(
                f"data.{name}: referencing block document {child_id} would form a cycle."
            )
        exists = await connection.execute(
            sa.select(block_documents.c.id).where(block_documents.c.id == child_id)
        )
        if exists.first() is None:
            raise ObjectNotFound(f"data.{name}: block document {child_id} not found.")
        await connection.execute(
            sa.insert(block_document_references).values(
                name=name,
                parent_block_document_id=parent_id,
                reference_block_document_id=child_id,
            )
        )


async def _reaches(connection: AsyncConnection, start: UUID, target: UUID) -> bool:
    """Tell whether `target` is among the documents that `start` references."""
    frontier: list[UUID] = [start]
    seen: set[UUID] = set()
    while frontier and len(seen) <= 1000:
        current = frontier.pop()
        for _name, child_id in await _child_references(connection, current):
            if child_id == target:
                return True
            if child_id not in seen:
                seen.add(child_id)
                frontier.append(child_id)
    return False


async def create_block_document(
    connection: AsyncConnection, document: BlockDocumentCreate
) -> BlockDocument:
    schema = await read_block_schema(connection, document.block_schema_id)
    if schema.block_type_id != document.block_type_id:
        raise InvalidRequest(
            f"Block schema {schema.id} belongs to block type {schema.block_type_id}, "
            f"not {document.block_type_id}."
        )
    name = document.name or f"anonymous-{uuid4()}"
    taken = await connection.execute(
        sa.select(block_documents.c.id).where(
            block_documents.c.block_type_id == document.block_type_id,
            block_documents.c.name == name,
        )
    )
    if taken.first() is not None:
        raise ObjectAlreadyExists(
            f"A block document named {name!r} of this type already exists."
        )
    data, references = split_references(document.data)
    document_id = uuid4()
    await connection.execute(
        sa.insert(block_documents).values(
            id=document_id,
            name=name,
            data=data,
            is_anonymous=document.is_anonymous,
            block_type_id=document.block_type_id,
            block_schema_id=document.block_schema_id,
        )
    )
    await _write_references(connection, document_id, references)
    return await read_block_document(connection, document_id)


async def update_block_document(
    connection: AsyncConnection, document_id: UUID, update: BlockDocumentUpdate
) -> None:
    current = await read_block_document(connection, document_id, include_secrets=True)
    values: dict[str, Any] = {}
    schema = current.block_schema
    assert schema is not None, "documents are always read with their schema"
    if update.block_schema_id is not None and update.block_schema_id != schema.id:
        schema = await read_block_schema(connection, update.block_schema_id)
        if schema.block_type_id != current.block_type_id:
            raise InvalidRequest(
                "block_schema_id: the new schema must belong to the document's block type."
            )
        values["block_schema_id"] = schema.id
    if "data" in update.model_fields_set or not update.merge_existing_data:
        secret_fields = schema.fields.get("secret_fields", [])
        stored = await _stored_data(connection, document_id)
        new_data = keep_masked_secrets(update.data, current.data, secret_fields)
        if update.merge_existing_data:
            new_data = {**stored, **_references_as_refs(current), **new_data}
        plain, references = split_references(new_data)
        # Nested documents that arrived as plain data stay plain data.
        values["data"] = plain
        await _write_references(connection, document_id, references)
    if values:
        await connection.execute(
            sa.update(block_documents)
            .where(block_documents.c.id == document_id)
            .values(**values)
        )


def _references_as_refs(document: BlockDocument) -> dict[str, Any]:
    return {
        name: {"$ref": {"block_document_id": str(reference["block_document"]["id"])}}
        for name, reference in document.block_document_references.items()
    }


async def _stored_data(
    connection: AsyncConnection, document_id: UUID
) -> dict[str, Any]:
    query = sa.select(block_documents.c.data).where(block_documents.c.id == document_id)
    return dict((await connection.execute(query)).scalar_one() or {})


async def delete_block_document(connection: AsyncConnection, document_id: UUID) -> None:
    result = await connection.execute(
        sa.delete(block_documents).where(block_documents.c.id == document_id)
    )
    if result.rowcount == 0:
        raise ObjectNotFound(f"Block document {document_id} not found.")
