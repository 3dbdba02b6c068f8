"""Queries for variables."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import ObjectAlreadyExists, ObjectNotFound
from podium.schemas.variables import (
    Variable,
    VariableCreate,
    VariableFilter,
    VariableSort,
    VariableUpdate,
)
from podium.storage.filtering import Clause, JsonArray, compile_filter
from podium.storage.tables import variables

SORTS: dict[VariableSort, list[Any]] = {
    VariableSort.CREATED_DESC: [variables.c.created.desc(), variables.c.id],
    VariableSort.UPDATED_DESC: [variables.c.updated.desc(), variables.c.id],
    VariableSort.NAME_ASC: [variables.c.name.asc()],
    VariableSort.NAME_DESC: [variables.c.name.desc()],
}


def variable_criteria(flt: VariableFilter | None) -> Clause:
    return compile_filter(
        flt,
        {
            "id": variables.c.id,
            "name": variables.c.name,
            "tags": JsonArray(variables.c.tags),
        },
    )


def _by_id(variable_id: UUID) -> tuple[Clause, str]:
    return variables.c.id == variable_id, f"Variable {variable_id} not found."


def _by_name(name: str) -> tuple[Clause, str]:
    return variables.c.name == name, f"Variable {name!r} not found."


async def _ensure_name_free(connection: AsyncConnection, name: str) -> None:
    query = sa.select(variables.c.id).where(variables.c.name == name)
    if (await connection.execute(query)).first() is not None:
        raise ObjectAlreadyExists(f"A variable named {name!r} already exists.")


async def create_variable(
    connection: AsyncConnection, variable: VariableCreate
) -> Variable:
    await _ensure_name_free(connection, variable.name)
    statement = (
        sa.insert(variables)
        .values(**variable.model_dump(mode="json"))
        .returning(*variables.c)
    )
    row = (await connection.execute(statement)).one()
    return Variable.model_validate(row)


async def _read_one(
    connection: AsyncConnection, where: Clause, missing: str
) -> Variable:
    row = (await connection.execute(sa.select(variables).where(where))).first()
    if row is None:
        raise ObjectNotFound(missing)
    return Variable.model_validate(row)


async def read_variable(connection: AsyncConnection, variable_id: UUID) -> Variable:
    return await _read_one(connection, *_by_id(variable_id))


async def read_variable_by_name(connection: AsyncConnection, name: str) -> Variable:
    return await _read_one(connection, *_by_name(name))


async def read_variables(
    connection: AsyncConnection,
    flt: VariableFilter | None,
    sort: VariableSort = VariableSort.NAME_ASC,
    limit: int | None = None,
    offset: int = 0,
) -> list[Variable]:
    query = (
        sa.select(variables)
        .where(variable_criteria(flt))
        .order_by(*SORTS[sort])
        .limit(limit)
        .offset(offset)
    )
    rows = (await connection.execute(query)).all()
    return [Variable.model_validate(row) for row in rows]


async def count_variables(
    connection: AsyncConnection, flt: VariableFilter | None
) -> int:
    query = (
        sa.select(sa.func.count()).select_from(variables).where(variable_criteria(flt))
    )
    return int((await connection.execute(query)).scalar_one())


async def _update(
    connection: AsyncConnection, where: Clause, missing: str, update: VariableUpdate
) -> None:
    current = await _read_one(connection, where, missing)
    values = update.model_dump(mode="json", exclude_unset=True)
    # A null in the body means "unchanged" for name and tags, as in Prefect.
    for field in ("name", "tags"):
        if values.get(field) is None:
            values.pop(field, None)
    if "name" in values and values["name"] != current.name:
        await _ensure_name_free(connection, values["name"])
    if values:
        await connection.execute(
            sa.update(variables).where(variables.c.id == current.id).values(**values)
        )


async def update_variable(
    connection: AsyncConnection, variable_id: UUID, update: VariableUpdate
) -> None:
    await _update(connection, *_by_id(variable_id), update)


async def update_variable_by_name(
    connection: AsyncConnection, name: str, update: VariableUpdate
) -> None:
    await _update(connection, *_by_name(name), update)


async def _delete(connection: AsyncConnection, where: Clause, missing: str) -> None:
    result = await connection.execute(sa.delete(variables).where(where))
    if result.rowcount == 0:
        raise ObjectNotFound(missing)


async def delete_variable(connection: AsyncConnection, variable_id: UUID) -> None:
    await _delete(connection, *_by_id(variable_id))


async def delete_variable_by_name(connection: AsyncConnection, name: str) -> None:
    await _delete(connection, *_by_name(name))
