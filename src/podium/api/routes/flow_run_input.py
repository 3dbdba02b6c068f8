"""Routes for `/flow_runs/{id}/input`: keyed values sent to a flow run."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Body, Path, status
from fastapi.responses import PlainTextResponse

from podium.api.dependencies import DatabaseDep
from podium.schemas.flow_run_input import KEY_PATTERN, FlowRunInput
from podium.storage import flow_run_input as storage

router = APIRouter(prefix="/flow_runs", tags=["Flow Runs"])

InputKey = Path(pattern=KEY_PATTERN, description="The input's key.")


@router.post("/{id}/input", status_code=status.HTTP_201_CREATED)
async def create_flow_run_input(
    id: UUID,  # noqa: A002 - contract name
    db: DatabaseDep,
    key: str = Body(..., pattern=KEY_PATTERN, description="The input's key."),
    value: str = Body(..., description="The input's value, usually JSON text."),
    sender: str | None = Body(None, description="Who sent the input."),
) -> None:
    async with db.transaction() as connection:
        await storage.create_flow_run_input(connection, id, key, value, sender)


@router.post("/{id}/input/filter")
async def filter_flow_run_input(
    id: UUID,  # noqa: A002
    db: DatabaseDep,
    prefix: str = Body(..., embed=True, description="The key prefix to match."),
    limit: int = Body(1, ge=0, le=200, description="The page size."),
    exclude_keys: list[str] = Body([], description="Keys to leave out."),
) -> list[FlowRunInput]:
    async with db.read() as connection:
        return await storage.filter_flow_run_inputs(
            connection, id, prefix, limit, exclude_keys
        )


@router.get("/{id}/input/{key}", response_class=PlainTextResponse)
async def read_flow_run_input(
    id: UUID,  # noqa: A002
    db: DatabaseDep,
    key: str = InputKey,
) -> PlainTextResponse:
    """Return the input's value as the text that was sent."""
    async with db.read() as connection:
        found = await storage.read_flow_run_input(connection, id, key)
    return PlainTextResponse(found.value)


@router.delete("/{id}/input/{key}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_flow_run_input(
    id: UUID,  # noqa: A002
    db: DatabaseDep,
    key: str = InputKey,
) -> None:
    async with db.transaction() as connection:
        await storage.delete_flow_run_input(connection, id, key)
