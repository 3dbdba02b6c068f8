"""Queries for flow run inputs: values keyed by name, sent to one flow run."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import ObjectAlreadyExists, ObjectNotFound
from podium.schemas.flow_run_input import FlowRunInput
from podium.storage.tables import flow_run_inputs, flow_runs


async def create_flow_run_input(
    connection: AsyncConnection,
    flow_run_id: UUID,
    key: str,
    value: str,
    sender: str | None = None,
) -> FlowRunInput:
    run = await connection.execute(
        sa.select(flow_runs.c.id).where(flow_runs.c.id == flow_run_id)
    )
    if run.first() is None:
        raise ObjectNotFound(f"Flow run {flow_run_id} not found.")
    taken = await connection.execute(
        sa.select(flow_run_inputs.c.id).where(
            flow_run_inputs.c.flow_run_id == flow_run_id, flow_run_inputs.c.key == key
        )
    )
    if taken.first() is not None:
        raise ObjectAlreadyExists(
            f"Flow run {flow_run_id} already has an input {key!r}."
        )
    statement = (
        sa.insert(flow_run_inputs)
        .values(flow_run_id=flow_run_id, key=key, value=value, sender=sender)
        .returning(*flow_run_inputs.c)
    )
    return FlowRunInput.model_validate((await connection.execute(statement)).one())


async def read_flow_run_input(
    connection: AsyncConnection, flow_run_id: UUID, key: str
) -> FlowRunInput:
    query = sa.select(flow_run_inputs).where(
        flow_run_inputs.c.flow_run_id == flow_run_id, flow_run_inputs.c.key == key
    )
    row = (await connection.execute(query)).first()
    if row is None:
        raise ObjectNotFound(f"Flow run {flow_run_id} has no input {key!r}.")
    return FlowRunInput.model_validate(row)


async def filter_flow_run_inputs(
    connection: AsyncConnection,
    flow_run_id: UUID,
    prefix: str,
    limit: int,
    exclude_keys: Sequence[str] = (),
) -> list[FlowRunInput]:
    """Return the run's inputs whose key starts with `prefix`, oldest first."""
    query = (
        sa.select(flow_run_inputs)
        .where(
            flow_run_inputs.c.flow_run_id == flow_run_id,
            flow_run_inputs.c.key.startswith(prefix, autoescape=True),
            flow_run_inputs.c.key.not_in(list(exclude_keys)),
        )
        .order_by(flow_run_inputs.c.created, flow_run_inputs.c.id)
        .limit(limit)
    )
    return [FlowRunInput.model_validate(row) for row in await connection.execute(query)]


async def delete_flow_run_input(
    connection: AsyncConnection, flow_run_id: UUID, key: str
) -> None:
    result = await connection.execute(
        sa.delete(flow_run_inputs).where(
            flow_run_inputs.c.flow_run_id == flow_run_id, flow_run_inputs.c.key == key
        )
    )
    if result.rowcount == 0:
        raise ObjectNotFound(f"Flow run {flow_run_id} has no input {key!r}.")
