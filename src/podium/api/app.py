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
from podium.api.access_log import AccessLogMiddleware
from podium.api.docs import install_docs
from podium.api.errors import install_error_handlers
from podium.api.json_depth import JsonDepthLimitMiddleware
from podium.api.routes import (
    artifacts,
    automations,
    block_capabilities,
    block_documents,
    block_schemas,
    block_types,
    collections,
    concurrency_limits,
    concurrency_limits_v2,
    deployments,
    events,
    flow_run_extras,
    flow_run_input,
    flow_run_states,
    flow_runs,
    flows,
    logs,
    observed_states,
    root,
    saved_searches,
    task_run_states,
    task_runs,
    task_workers,
    ui,
    variables,
    work_pools,
    work_queues,
)
from podium.automations import AutomationEngine
from podium.events import EventsRuntime
from podium.services.registry import create_services
from podium.services.runner import ServiceRunner
from podium.settings import Settings
from podium.storage import migrate
from podium.storage.database import Database
from podium.storage.system_blocks import register_system_blocks

logger = logging.getLogger(__name__)

API_PREFIX = "/api"

# Every router of the API, mounted under API_PREFIX in this order. FastAPI
# tries the routes one by one, so the routers that running flows call most
# come first. Routers whose paths share a first segment (the several
# `/flow_runs` ones, the two automation ones) keep their relative order,
# which decides between overlapping paths.
ROUTERS: list[APIRouter] = [
    flow_runs.router,
    flow_run_extras.router,
    task_runs.router,
    logs.router,
    logs.flow_run_logs,
    flow_run_states.router,
    task_run_states.router,
    flows.router,
    work_pools.router,
    deployments.router,
    events.router,
    concurrency_limits_v2.router,
    root.router,
    root.admin,
    work_queues.router,
    task_workers.router,
    automations.router,
    automations.templates,
    variables.router,
    block_types.router,
    block_schemas.router,
    block_documents.router,
    block_capabilities.router,
    artifacts.router,
    concurrency_limits.router,
    saved_searches.router,
    flow_run_input.router,
    observed_states.router,
    collections.router,
    *ui.ROUTERS,
]


def _operation_id(route: APIRoute) -> str:
    # Name operations as the Prefect API does, from the handler name and the
    # path below the `/api` prefix, so generated clients see the same ids.
    path = route.path_format.removeprefix(API_PREFIX)
    method = sorted(route.methods)[0].lower()
    return re.sub(r"\W", "_", f"{route.name}{path}") + f"_{method}"


def create_app(
    settings: Settings | None = None, *, migrate_on_start: bool = True
) -> FastAPI:
    """Build the Podium ASGI app for the given settings (default: environment)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.resolved_database_url, echo=settings.database_echo)
        if migrate_on_start:
            await migrate.upgrade_if_behind(database)
        app.state.database = database
        async with database.transaction() as connection:
            await register_system_blocks(connection)
        app.state.events = EventsRuntime(database)
        await app.state.events.start()
        app.state.automations = AutomationEngine(database)
        app.state.events.listeners.append(app.state.automations.receive)
        await app.state.automations.start()
        services = ServiceRunner(
            create_services(database, settings) if settings.services_enabled else [],
            stop_timeout_seconds=settings.services_stop_timeout_seconds,
        )
        app.state.services = services
        services.start()
        try:
            yield
        finally:
            # Services may still write events, so they stop first.
            await services.stop()
            # Store the events already received before the database closes.
            await app.state.events.stop()
            await app.state.automations.stop()
            await database.dispose()

    app = FastAPI(
        title="Podium",
        version=PREFECT_COMPATIBLE_VERSION,
        summary="A workflow-orchestration server that speaks the Prefect 3 REST API.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        docs_url=None,
        redoc_url=None,
        # FastAPI's built-in OpenTelemetry looks up the global providers on
        # every request. Podium exports no telemetry, so it is switched off.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_docs(app, API_PREFIX)
    app.add_middleware(JsonDepthLimitMiddleware)
    if settings.access_log:
        app.add_middleware(AccessLogMiddleware)
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
