"""Wire models for flow run inputs."""

from __future__ import annotations

from uuid import UUID

from podium.schemas.base import ObjectModel

# Keys end up in URLs (`/flow_runs/{id}/input/{key}`).
KEY_PATTERN = r"^[a-z0-9-]*$"


class FlowRunInput(ObjectModel):
    flow_run_id: UUID
    key: str
    value: str
    sender: str | None = None
