"""Queries for artifacts and the latest artifact of each key.

`artifact_collections` holds one row per key that points at the newest
artifact of that key. Every write that can change which artifact is newest
updates it in the same transaction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import ObjectNotFound
from podium.schemas.artifacts import (
    Artifact,
    ArtifactCollection,
    ArtifactCollectionFilter,
    ArtifactCreate,
    ArtifactFilter,
    ArtifactSort,
    ArtifactUpdate,
)
from podium.schemas.deployments import DeploymentFilter
from podium.schemas.flow_runs import FlowRunFilter
from podium.schemas.flows import FlowFilter
from podium.schemas.task_runs import TaskRunFilter
from podium.storage.filtering import Clause, compile_filter
from podium.storage.run_criteria import flow_runs_where, task_run_criteria
from podium.storage.tables import artifact_collections, artifacts, flow_runs, task_runs
from podium.storage.tables.base import utcnow

SORTS: dict[ArtifactSort, list[Any]] = {
    ArtifactSort.CREATED_DESC: [artifacts.c.created.desc(), artifacts.c.id.desc()],
    ArtifactSort.UPDATED_DESC: [artifacts.c.updated.desc(), artifacts.c.id.desc()],
    ArtifactSort.ID_DESC: [artifacts.c.id.desc()],
    ArtifactSort.KEY_DESC: [artifacts.c.key.desc(), artifacts.c.id.desc()],
    ArtifactSort.KEY_ASC: [artifacts.c.key.asc(), artifacts.c.id.desc()],
}

_COLLECTION_SELECT = sa.select(
    artifact_collections.c.id,
    artifact_collections.c.created,
    artifact_collections.c.updated,
    artifact_collections.c.key,
    artifact_collections.c.latest_id,
    artifacts.c.type,
    artifacts.c.description,
    artifacts.c.data,
    artifacts.c.metadata_,
    artifacts.c.flow_run_id,
    artifacts.c.task_run_id,
).join(artifacts, artifacts.c.id == artifact_collections.c.latest_id)


def _like(column: Any, value: str) -> Clause:
    from podium.schemas.filtering import escape_like

    return column.ilike(f"%{escape_like(value)}%", escape="\\")


def _key_criteria(column: Any) -> Any:
    def clause(flt: Any) -> Clause:
        parts: list[Clause] = []
        if flt.any_ is not None:
            parts.append(column.in_(flt.any_))
        if flt.like_ is not None:
            parts.append(_like(column, flt.like_))
        if flt.exists_ is not None:
            parts.append(column.is_not(None) if flt.exists_ else column.is_(None))
        return sa.and_(sa.true(), *parts)

    return clause


def artifact_criteria(flt: ArtifactFilter | None) -> Clause:
    return compile_filter(
        flt,
        {
            "id": artifacts.c.id,
            "key": _key_criteria(artifacts.c.key),
            "flow_run_id": artifacts.c.flow_run_id,
            "task_run_id": artifacts.c.task_run_id,
            "type": artifacts.c.type,
        },
    )


def collection_criteria(flt: ArtifactCollectionFilter | None) -> Clause:
    return compile_filter(
        flt,
        {
            "latest_id": artifact_collections.c.latest_id,
            "key": _key_criteria(artifact_collections.c.key),
            "flow_run_id": artifacts.c.flow_run_id,
            "task_run_id": artifacts.c.task_run_id,
            "type": artifacts.c.type,
        },
    )


def related_runs_where(
    flow_runs_filter: FlowRunFilter | None = None,
    task_runs_filter: TaskRunFilter | None = None,
    flows_filter: FlowFilter | None = None,
    deployments: DeploymentFilter | None = None,
) -> Clause:
    """Return the clause on `artifacts` for filters on their runs, flows and deployments."""
    clauses: list[Clause] = []
    if any(f is not None for f in (flow_runs_filter, flows_filter, deployments)):
        runs = sa.select(flow_runs.c.id).where(
            flow_runs_where(flow_runs_filter, flows_filter, deployments=deployments)
        )
        clauses.append(artifacts.c.flow_run_id.in_(runs))
    if task_runs_filter is not None:
        tasks = sa.select(task_runs.c.id).where(task_run_criteria(task_runs_filter))
        clauses.append(artifacts.c.task_run_id.in_(tasks))
    return sa.and_(sa.true(), *clauses)


async def create_artifact(
    connection: AsyncConnection, artifact: ArtifactCreate
) -> Artifact:
    statement = (
        sa.insert(artifacts).values(**artifact.model_dump()).returning(*artifacts.c)
    )
    created = Artifact.model_validate((await connection.execute(statement)).one())
    if created.key is not None:
        await _point_collection_at(connection, created.key, created.id)
    return created


async def _point_collection_at(
    connection: AsyncConnection, key: str, artifact_id: UUID
) -> None:
    now = utcnow()
    result = await connection.execute(
        sa.update(artifact_collections)
        .where(artifact_collections.c.key == key)
        .values(latest_id=artifact_id, updated=now)
    )
    if result.rowcount == 0:
        await connection.execute(
            sa.insert(artifact_collections).values(key=key, latest_id=artifact_id)
        )


async def read_artifact(connection: AsyncConnection, artifact_id: UUID) -> Artifact:
    row = (
        await connection.execute(
            sa.select(artifacts).where(artifacts.c.id == artifact_id)
        )
    ).first()
    if row is None:
        raise ObjectNotFound(f"Artifact {artifact_id} not found.")
    return Artifact.model_validate(row)


async def read_latest_artifact(connection: AsyncConnection, key: str) -> Artifact:
    query = (
        sa.select(artifacts)
        .join(artifact_collections, artifact_collections.c.latest_id == artifacts.c.id)
        .where(artifact_collections.c.key == key)
    )
    row = (await connection.execute(query)).first()
    if row is None:
        raise ObjectNotFound(f"No artifact with key {key!r} found.")
    return Artifact.model_validate(row)


async def read_artifacts(
    connection: AsyncConnection,
    where: Clause,
    sort: ArtifactSort = ArtifactSort.ID_DESC,
    limit: int | None = None,
    offset: int = 0,
) -> list[Artifact]:
    query = (
        sa.select(artifacts)
        .where(where)
        .order_by(*SORTS[sort])
        .limit(limit)
        .offset(offset)
    )
    return [Artifact.model_validate(row) for row in await connection.execute(query)]


async def count_artifacts(connection: AsyncConnection, where: Clause) -> int:
    query = sa.select(sa.func.count()).select_from(artifacts).where(where)
    return int((await connection.execute(query)).scalar_one())


_COLLECTION_SORTS: dict[ArtifactSort, list[Any]] = {
    ArtifactSort.CREATED_DESC: [artifact_collections.c.created.desc()],
    ArtifactSort.UPDATED_DESC: [artifact_collections.c.updated.desc()],
    ArtifactSort.ID_DESC: [artifact_collections.c.id.desc()],
    ArtifactSort.KEY_DESC: [artifact_collections.c.key.desc()],
    ArtifactSort.KEY_ASC: [artifact_collections.c.key.asc()],
}


async def read_latest_artifacts(
    connection: AsyncConnection,
    where: Clause,
    sort: ArtifactSort = ArtifactSort.ID_DESC,
    limit: int | None = None,
    offset: int = 0,
) -> list[ArtifactCollection]:
    query = (
        _COLLECTION_SELECT.where(where)
        .order_by(*_COLLECTION_SORTS[sort], artifact_collections.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        ArtifactCollection.model_validate(row)
        for row in await connection.execute(query)
    ]


async def count_latest_artifacts(connection: AsyncConnection, where: Clause) -> int:
    query = sa.select(sa.func.count()).select_from(
        _COLLECTION_SELECT.where(where).subquery()
    )
    return int((await connection.execute(query)).scalar_one())


async def update_artifact(
    connection: AsyncConnection, artifact_id: UUID, update: ArtifactUpdate
) -> None:
    values = update.model_dump(exclude_unset=True)
    current = await read_artifact(connection, artifact_id)
    if values:
        await connection.execute(
            sa.update(artifacts).where(artifacts.c.id == artifact_id).values(**values)
        )
    if current.key is not None:
        await connection.execute(
            sa.update(artifact_collections)
            .where(artifact_collections.c.latest_id == artifact_id)
            .values(updated=utcnow())
        )


async def delete_artifact(connection: AsyncConnection, artifact_id: UUID) -> None:
    """Delete an artifact; its key then points at the next newest version, if any."""
    current = await read_artifact(connection, artifact_id)
    if current.key is not None:
        newest_other = (
            sa.select(artifacts.c.id)
            .where(artifacts.c.key == current.key, artifacts.c.id != artifact_id)
            .order_by(artifacts.c.created.desc(), artifacts.c.id.desc())
            .limit(1)
        )
        replacement = (await connection.execute(newest_other)).scalar_one_or_none()
        collection = artifact_collections.c.latest_id == artifact_id
        if replacement is None:
            await connection.execute(sa.delete(artifact_collections).where(collection))
        else:
            await connection.execute(
                sa.update(artifact_collections)
                .where(collection)
                .values(latest_id=replacement)
            )
    await connection.execute(sa.delete(artifacts).where(artifacts.c.id == artifact_id))
