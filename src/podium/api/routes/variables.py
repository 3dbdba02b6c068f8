"""Routes for `/variables`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Body, status

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.schemas.variables import (
    Variable,
    VariableCreate,
    VariableFilter,
    VariableSort,
    VariableUpdate,
)
from podium.storage import variables as storage

router = APIRouter(prefix="/variables", tags=["Variables"])


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_variable(variable: VariableCreate, db: DatabaseDep) -> Variable:
    async with db.transaction() as connection:
        return await storage.create_variable(connection, variable)


@router.post("/filter")
async def read_variables(
    db: DatabaseDep,
    variables: VariableFilter | None = Body(None, embed=True),
    sort: VariableSort | None = Body(VariableSort.NAME_ASC),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[Variable]:
    async with db.read() as connection:
        return await storage.read_variables(
            connection, variables, sort or VariableSort.NAME_ASC, limit, offset
        )


@router.post("/count")
async def count_variables(
    db: DatabaseDep, variables: VariableFilter | None = Body(None, embed=True)
) -> int:
    async with db.read() as connection:
        return await storage.count_variables(connection, variables)


@router.get("/name/{name}")
async def read_variable_by_name(name: str, db: DatabaseDep) -> Variable:
    async with db.read() as connection:
        return await storage.read_variable_by_name(connection, name)


@router.patch("/name/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def update_variable_by_name(
    name: str, variable: VariableUpdate, db: DatabaseDep
) -> None:
    async with db.transaction() as connection:
        await storage.update_variable_by_name(connection, name, variable)


@router.delete("/name/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_variable_by_name(name: str, db: DatabaseDep) -> None:
    async with db.transaction() as connection:
        await storage.delete_variable_by_name(connection, name)


@router.get("/{id}")
async def read_variable(id: UUID, db: DatabaseDep) -> Variable:  # noqa: A002 - contract name
    async with db.read() as connection:
        return await storage.read_variable(connection, id)


@router.patch("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def update_variable(
    id: UUID,  # noqa: A002
    variable: VariableUpdate,
    db: DatabaseDep,
) -> None:
    async with db.transaction() as connection:
        await storage.update_variable(connection, id, variable)


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_variable(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.delete_variable(connection, id)
