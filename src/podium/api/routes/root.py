"""Server routes: health, readiness, versions, admin and CSRF."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from podium import API_VERSION, PREFECT_COMPATIBLE_VERSION
from podium.api.dependencies import DatabaseDep, SettingsDep
from podium.schemas.admin import (
    ServerDefaultResultStorage,
    ServerDefaultResultStorageUpdate,
)
from podium.storage import result_storage

router = APIRouter(tags=["Root"])
admin = APIRouter(prefix="/admin", tags=["Admin"])


@router.get("/health")
async def health_check() -> bool:
    return True


@router.get("/version")
async def server_version() -> str:
    return API_VERSION


@router.get("/hello")
async def hello() -> str:
    return "👋"


@router.get("/ready")
async def perform_readiness_check(db: DatabaseDep) -> JSONResponse:
    try:
        async with db.read() as connection:
            await connection.execute(sa.text("SELECT 1"))
    except Exception as exc:  # reported to the caller as not ready
        return JSONResponse(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            content={"message": f"Database is not ready: {exc}"},
        )
    return JSONResponse(status_code=200, content={"message": "OK"})


@router.get("/csrf-token")
async def create_csrf_token() -> JSONResponse:
    # Podium does not enable CSRF protection. The Prefect client reads this
    # exact response as "no token needed".
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": "CSRF protection is disabled."},
    )


@admin.get("/version")
async def read_version() -> str:
    return PREFECT_COMPATIBLE_VERSION


@admin.get("/settings")
async def read_settings(settings: SettingsDep) -> dict[str, Any]:
    values = settings.model_dump(mode="json")
    values["database_url"] = _hide_password(settings.resolved_database_url)
    return values


@admin.get("/storage")
async def read_server_default_result_storage(
    db: DatabaseDep,
) -> ServerDefaultResultStorage:
    async with db.read() as connection:
        return await result_storage.read_default_result_storage(connection)


@admin.put("/storage")
async def update_server_default_result_storage(
    configuration: ServerDefaultResultStorageUpdate, db: DatabaseDep
) -> ServerDefaultResultStorage:
    block_id = configuration.default_result_storage_block_id
    async with db.transaction() as connection:
        return await result_storage.write_default_result_storage(connection, block_id)


@admin.delete("/storage", status_code=status.HTTP_204_NO_CONTENT)
async def clear_server_default_result_storage(db: DatabaseDep) -> None:
    async with db.transaction() as connection:
        await result_storage.clear_default_result_storage(connection)


def _hide_password(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)
