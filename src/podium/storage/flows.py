"""Queries for flows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import ObjectNotFound
from podium.schemas.flows import Flow, FlowCreate, FlowSort, FlowUpdate
from podium.storage import dialect
from podium.storage.criteria import flow_criteria
from podium.storage.filtering import Clause
from podium.storage.tables import flows

SORTS: dict[FlowSort, list[Any]] = {
    FlowSort.CREATED_DESC: [flows.c.created.desc(), flows.c.id],
    FlowSort.UPDATED_DESC: [flows.c.updated.desc(), flows.c.id],
    FlowSort.NAME_ASC: [flows.c.name.asc()],
    FlowSort.NAME_DESC: [flows.c.name.desc()],
}


def _flow_not_found(flow_id: UUID) -> ObjectNotFound:
    return ObjectNotFound(f"Flow {flow_id} not found.")


async def create_flow(
    connection: AsyncConnection, flow: FlowCreate
) -> tuple[Flow, bool]:
    """Insert a flow unless one of that name exists.

    Returns the flow and whether it was created. An existing flow is returned
    unchanged, as the Prefect API's upsert does.
    """
    values = flow.model_dump(mode="json")
    statement = (
        dialect.insert(connection, flows)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[flows.c.name])
        .returning(flows.c.id)
    )
    created = (await connection.execute(statement)).first() is not None
    existing = await read_flow_by_name(connection, flow.name)
    assert existing is not None
    return existing, created


async def read_flow(connection: AsyncConnection, flow_id: UUID) -> Flow:
    row = (
        await connection.execute(sa.select(flows).where(flows.c.id == flow_id))
    ).first()
    if row is None:
        raise _flow_not_found(flow_id)
    return Flow.model_validate(row)


async def read_flow_by_name(
    connection: AsyncConnection, name: str, missing_ok: bool = False
) -> Flow | None:
    row = (
        await connection.execute(sa.select(flows).where(flows.c.name == name))
    ).first()
    if row is None:
        if missing_ok:
            return None
        raise ObjectNotFound(f"Flow {name!r} not found.")
    return Flow.model_validate(row)


async def read_flows(
    connection: AsyncConnection,
    where: Clause,
    sort: FlowSort = FlowSort.NAME_ASC,
    limit: int | None = None,
    offset: int = 0,
) -> list[Flow]:
    query = (
        sa.select(flows).where(where).order_by(*SORTS[sort]).limit(limit).offset(offset)
    )
    rows = (await connection.execute(query)).all()
    return [Flow.model_validate(row) for row in rows]


async def count_flows(connection: AsyncConnection, where: Clause) -> int:
    query = sa.select(sa.func.count()).select_from(flows).where(where)
    return int((await connection.execute(query)).scalar_one())


async def update_flow(
    connection: AsyncConnection, flow_id: UUID, update: FlowUpdate
) -> None:
    values = update.model_dump(mode="json", exclude_unset=True)
    if not values:
        await read_flow(connection, flow_id)
        return
    result = await connection.execute(
        sa.update(flows).where(flows.c.id == flow_id).values(**values)
    )
    if result.rowcount == 0:
        raise _flow_not_found(flow_id)


async def delete_flows(connection: AsyncConnection, where: Clause) -> list[UUID]:
    """Delete the matching flows with their runs and deployments."""
    ids = (await connection.execute(sa.select(flows.c.id).where(where))).scalars().all()
    if ids:
        await connection.execute(sa.delete(flows).where(flows.c.id.in_(ids)))
    return list(ids)


async def delete_flow(connection: AsyncConnection, flow_id: UUID) -> None:
    deleted: Sequence[UUID] = await delete_flows(connection, flows.c.id == flow_id)
    if not deleted:
        raise _flow_not_found(flow_id)


def flows_where(flow_filter: Any = None, **related: Clause) -> Clause:
    """Combine a flow filter with clauses on related objects."""
    return sa.and_(flow_criteria(flow_filter), *related.values())
