"""Routes for `/task_run_states`: the state history of task runs."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query

from podium.api.dependencies import DatabaseDep
from podium.schemas.states import State
from podium.storage import states as storage
from podium.storage.states import TASK_RUN_TABLES

router = APIRouter(prefix="/task_run_states", tags=["Task Run States"])


@router.get("/")
async def read_task_run_states(
    db: DatabaseDep, task_run_id: UUID = Query(...)
) -> list[State]:
    """Return a task run's states, oldest first."""
    async with db.read() as connection:
        return await storage.read_states(connection, TASK_RUN_TABLES, task_run_id)


@router.get("/{id}")
async def read_task_run_state(id: UUID, db: DatabaseDep) -> State:  # noqa: A002
    async with db.read() as connection:
        return await storage.read_state(connection, TASK_RUN_TABLES, id)
