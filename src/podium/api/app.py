"""The application factory."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from podium import PREFECT_COMPATIBLE_VERSION
from podium.api.errors import install_error_handlers
from podium.api.routes import flows, root
from podium.settings import Settings
from podium.storage import migrate
from podium.storage.database import Database

logger = logging.getLogger(__name__)

API_PREFIX = "/api"

ROUTERS: list[APIRouter] = [root.router, root.admin, flows.router]


def _operation_id(route: APIRoute) -> str:
    # Name operations as the Prefect API does, from the handler name and the
    # path below the `/api` prefix, so generated clients see the same ids.
    path = route.path_format.removeprefix(API_PREFIX)
    method = sorted(route.methods)[0].lower()
    return re.sub(r"\W", "_", f"{route.name}{path}") + f"_{method}"


def create_app(settings: Settings | None = None, *, migrate_on_start: bool = True) -> FastAPI:
    """Build the Podium ASGI app for the given settings (default: environment)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.resolved_database_url
        if migrate_on_start:
            migrate.upgrade(url)
        database = Database(url, echo=settings.database_echo)
        app.state.database = database
        try:
            yield
        finally:
            await database.dispose()

    app = FastAPI(
        title="Podium",
        version=PREFECT_COMPATIBLE_VERSION,
        summary="A workflow-orchestration server that speaks the Prefect 3 REST API.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    _describe_paths_below_prefix(app)
    return app


def _describe_paths_below_prefix(app: FastAPI) -> None:
    """Make `openapi()` list paths as the contract does, relative to `/api`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema["paths"] = {
                path.removeprefix(API_PREFIX) or "/": item
                for path, item in schema["paths"].items()
            }
            schema["servers"] = [{"url": API_PREFIX}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
