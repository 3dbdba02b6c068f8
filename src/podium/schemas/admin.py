"""Wire models for server-wide settings under `/admin`."""

from __future__ import annotations

from uuid import UUID

from podium.schemas.base import ActionModel, PodiumModel


class ServerDefaultResultStorage(PodiumModel):
    default_result_storage_block_id: UUID | None = None


class ServerDefaultResultStorageUpdate(ActionModel):
    default_result_storage_block_id: UUID
