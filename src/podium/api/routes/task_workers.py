"""Routes for `/task_workers`."""

from __future__ import annotations

from fastapi import APIRouter, Body

from podium.schemas.task_workers import TaskWorkerFilter, TaskWorkerResponse

router = APIRouter(prefix="/task_workers", tags=["Task Workers"])


@router.post("/filter")
async def read_task_workers(
    task_worker_filter: TaskWorkerFilter | None = Body(None, embed=True),
) -> list[TaskWorkerResponse]:
    # TODO: task workers register through the scheduled task run websocket,
    # which Podium does not serve yet, so no task worker is ever active.
    return []
