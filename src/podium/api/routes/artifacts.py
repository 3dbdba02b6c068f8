"""Routes for `/artifacts`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Body, status

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.schemas.artifacts import (
    Artifact,
    ArtifactCollection,
    ArtifactCollectionFilter,
    ArtifactCollectionSort,
    ArtifactCreate,
    ArtifactFilter,
    ArtifactSort,
    ArtifactUpdate,
)
from podium.schemas.deployments import DeploymentFilter
from podium.schemas.flow_runs import FlowRunFilter
from podium.schemas.flows import FlowFilter
from podium.schemas.task_runs import TaskRunFilter
from podium.storage import artifacts as storage

router = APIRouter(prefix="/artifacts", tags=["Artifacts"])


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_artifact(artifact: ArtifactCreate, db: DatabaseDep) -> Artifact:
    async with db.transaction() as connection:
        return await storage.create_artifact(connection, artifact)


@router.post("/filter")
async def read_artifacts(
    db: DatabaseDep,
    artifacts: ArtifactFilter | None = Body(None),
    flow_runs: FlowRunFilter | None = Body(None),
    task_runs: TaskRunFilter | None = Body(None),
    flows: FlowFilter | None = Body(None),
    deployments: DeploymentFilter | None = Body(None),
    sort: ArtifactSort | None = Body(ArtifactSort.ID_DESC),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[Artifact]:
    where = storage.artifact_criteria(artifacts) & storage.related_runs_where(
        flow_runs, task_runs, flows, deployments
    )
    async with db.read() as connection:
        return await storage.read_artifacts(
            connection, where, sort or ArtifactSort.ID_DESC, limit, offset
        )


@router.post("/count")
async def count_artifacts(
    db: DatabaseDep,
    artifacts: ArtifactFilter | None = Body(None),
    flow_runs: FlowRunFilter | None = Body(None),
    task_runs: TaskRunFilter | None = Body(None),
    flows: FlowFilter | None = Body(None),
    deployments: DeploymentFilter | None = Body(None),
) -> int:
    where = storage.artifact_criteria(artifacts) & storage.related_runs_where(
        flow_runs, task_runs, flows, deployments
    )
    async with db.read() as connection:
        return await storage.count_artifacts(connection, where)


@router.post("/latest/filter")
async def read_latest_artifacts(
    db: DatabaseDep,
    artifacts: ArtifactCollectionFilter | None = Body(None),
    flow_runs: FlowRunFilter | None = Body(None),
    task_runs: TaskRunFilter | None = Body(None),
    flows: FlowFilter | None = Body(None),
    deployments: DeploymentFilter | None = Body(None),
    sort: ArtifactCollectionSort | None = Body(ArtifactCollectionSort.ID_DESC),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[ArtifactCollection]:
    where = storage.collection_criteria(artifacts) & storage.related_runs_where(
        flow_runs, task_runs, flows, deployments
    )
    async with db.read() as connection:
        return await storage.read_latest_artifacts(
            connection, where, sort or ArtifactSort.ID_DESC, limit, offset
        )


@router.post("/latest/count")
async def count_latest_artifacts(
    db: DatabaseDep,
    artifacts: ArtifactCollectionFilter | None = Body(None),
    flow_runs: FlowRunFilter | None = Body(None),
    task_runs: TaskRunFilter | None = Body(None),
    flows: FlowFilter | None = Body(None),
    deployments: DeploymentFilter | None = Body(None),
) -> int:
    where = storage.collection_criteria(artifacts) & storage.related_runs_where(
        flow_runs, task_runs, flows, deployments
    )
    async with db.read() as connection:
        return await storage.count_latest_artifacts(connection, where)


@router.get("/{key}/latest")
async def read_latest_artifact(key: str, db: DatabaseDep) -> Artifact:
    async with db.read() as connection:
        return await storage.read_latest_artifact(connection, key)


@router.get("/{id}")
async def read_artifact(id: UUID, db: DatabaseDep) -> Artifact:  # noqa: A002 - contract name
    async with db.read() as connection:
        return await storage.read_artifact(connection, id)


@router.patch("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def update_artifact(
    id: UUID,  # noqa: A002
    artifact: ArtifactUpdate,
    db: DatabaseDep,
) -> None:
    async with db.transaction() as connection:
        await storage.update_artifact(connection, id, artifact)


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_artifact(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.delete_artifact(connection, id)
