"""Routes for `/flow_run_states`: the state history of flow runs."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query

from podium.api.dependencies import DatabaseDep
from podium.schemas.states import State
from podium.storage import states as storage
from podium.storage.states import FLOW_RUN_TABLES

router = APIRouter(prefix="/flow_run_states", tags=["Flow Run States"])


@router.get("/")
async def read_flow_run_states(
    db: DatabaseDep, flow_run_id: UUID = Query(...)
) -> list[State]:
    """Return a flow run's states, oldest first."""
    async with db.read() as connection:
        return await storage.read_states(connection, FLOW_RUN_TABLES, flow_run_id)


@router.get("/{id}")
async def read_flow_run_state(id: UUID, db: DatabaseDep) -> State:  # noqa: A002 - contract name
    async with db.read() as connection:
        return await storage.read_state(connection, FLOW_RUN_TABLES, id)
