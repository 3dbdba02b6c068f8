"""Routes for `/flows`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Body, Path, Response, status

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.schemas.flows import Flow, FlowCreate, FlowFilter, FlowSort, FlowUpdate
from podium.storage import flows as storage

router = APIRouter(prefix="/flows", tags=["Flows"])


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_flow(flow: FlowCreate, response: Response, db: DatabaseDep) -> Flow:
    """Create a flow, or return the existing flow of that name with 200."""
    async with db.transaction() as connection:
        result, created = await storage.create_flow(connection, flow)
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/count")
async def count_flows(
    db: DatabaseDep, flows: FlowFilter | None = Body(None, embed=True)
) -> int:
    async with db.read() as connection:
        return await storage.count_flows(connection, storage.flows_where(flows))


@router.post("/filter")
async def read_flows(
    db: DatabaseDep,
    flows: FlowFilter | None = Body(None, embed=True),
    sort: FlowSort = Body(FlowSort.NAME_ASC),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[Flow]:
    async with db.read() as connection:
        return await storage.read_flows(
            connection, storage.flows_where(flows), sort, limit, offset
        )


@router.get("/name/{name}")
async def read_flow_by_name(db: DatabaseDep, name: str = Path()) -> Flow:
    async with db.read() as connection:
        flow = await storage.read_flow_by_name(connection, name)
    assert flow is not None
    return flow


@router.get("/{id}")
async def read_flow(id: UUID, db: DatabaseDep) -> Flow:  # noqa: A002 - contract name
    async with db.read() as connection:
        return await storage.read_flow(connection, id)


@router.patch("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def update_flow(id: UUID, flow: FlowUpdate, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.update_flow(connection, id, flow)


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_flow(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.delete_flow(connection, id)
