"""Run the API server or the services alone, and report where they run."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket

import uvicorn
from fastapi import FastAPI

from podium import __version__
from podium.api.app import API_PREFIX, create_app
from podium.services.registry import create_services
from podium.services.runner import ServiceRunner
from podium.settings import Settings
from podium.storage import migrate
from podium.storage.database import Database

logger = logging.getLogger("podium.server")

# How long shutdown waits for open requests and sockets before closing them.
GRACEFUL_SHUTDOWN_SECONDS = 10


def start_line(base_url: str, database_url: str, service_names: list[str]) -> str:
    services = ", ".join(service_names) or "none"
    return (
        f"Podium {__version__} listening on {base_url} (API at {API_PREFIX}), "
        f"database {database_url}, services: {services}"
    )


class _Server(uvicorn.Server):
    """A uvicorn server that logs Podium's start-up line once it listens."""

    def __init__(
        self, config: uvicorn.Config, app: FastAPI, settings: Settings
    ) -> None:
        super().__init__(config)
        self.app = app
        self.settings = settings

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.started:
            return
        # Everything loaded so far (modules, models, compiled queries) lives as
        # long as the server. Freezing it keeps the collector from walking
        # those objects on every full collection, which otherwise showed as
        # pauses of up to 100 ms in request latency.
        gc.freeze()
        runner: ServiceRunner = self.app.state.services
        logger.info(
            start_line(
                self._base_url(), self.settings.database_url_for_display, runner.names
            )
        )

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        logger.info("Podium stopped.")

    def _base_url(self) -> str:
        # The bound address, so `--port 0` reports the port the OS chose.
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"


def serve(settings: Settings) -> None:
    """Serve the API until interrupted; uvicorn runs the app's lifespan."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=None,
        access_log=False,
        ws_ping_interval=None,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    _Server(config, app, settings).run()


async def run_services_until_stopped(settings: Settings) -> None:
    """Run the registered services against the database until SIGINT or SIGTERM."""
    database = Database(settings.resolved_database_url, echo=settings.database_echo)
    try:
        await migrate.upgrade_if_behind(database)
        runner = ServiceRunner(
            create_services(database, settings),
            stop_timeout_seconds=settings.services_stop_timeout_seconds,
        )
        if not runner.services:
            logger.warning(
                "No background services are registered, so there is nothing to run."
            )
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        runner.start()
        logger.info(
            "Podium %s services running on database %s: %s",
            __version__,
            settings.database_url_for_display,
            ", ".join(runner.names),
        )
        await stop.wait()
        logger.info("Stopping the services.")
        await runner.stop()
    finally:
        await database.dispose()
