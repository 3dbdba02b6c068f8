"""Tests for the service loop, the runner and the app's lifespan."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest

from podium.api import create_app
from podium.services import registry
from podium.services.base import Service
from podium.services.registry import ServiceEntry
from podium.services.runner import ServiceRunner
from podium.settings import Settings
from podium.storage.database import Database


class CountingService(Service):
    """Records its steps; changes `changed` objects per step, or raises."""

    name = "counting"

    def __init__(
        self, database: Database, changed: int = 0, fail: bool = False
    ) -> None:
        super().__init__(database, loop_seconds=0.01)
        self.changed = changed
        self.fail = fail
        self.steps = 0

    async def run_once(self, now: dt.datetime) -> int:
        self.steps += 1
        if self.fail:
            raise RuntimeError("step failed on purpose")
        return self.changed


class StuckService(CountingService):
    name = "stuck"

    async def run_once(self, now: dt.datetime) -> int:
        await asyncio.sleep(3600)
        return 0


async def run_briefly(runner: ServiceRunner, seconds: float = 0.1) -> None:
    runner.start()
    await asyncio.sleep(seconds)
    await runner.stop()


async def test_runner_starts_and_stops_services(database: Database) -> None:
    services = [CountingService(database), CountingService(database)]
    runner = ServiceRunner(services)

    await run_briefly(runner)

    assert all(service.steps >= 2 for service in services)
    assert not runner.running


async def test_runner_cancels_stuck_service(database: Database) -> None:
    runner = ServiceRunner([StuckService(database)], stop_timeout_seconds=0.05)

    started = asyncio.get_running_loop().time()
    await run_briefly(runner, 0.01)

    assert not runner.running
    assert asyncio.get_running_loop().time() - started < 2


async def test_runner_rejects_second_start(database: Database) -> None:
    runner = ServiceRunner([CountingService(database)])
    runner.start()
    try:
        with pytest.raises(RuntimeError):
            runner.start()
    finally:
        await runner.stop()


async def test_loop_logs_summary_only_for_work(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    idle, busy = CountingService(database), CountingService(database, changed=3)
    busy.name = "busy"
    caplog.set_level(logging.INFO, logger="podium.services")

    await run_briefly(ServiceRunner([idle, busy]))

    summaries = [r.getMessage() for r in caplog.records if "changed" in r.getMessage()]
    assert summaries
    assert all(
        message.startswith("Service busy changed 3 objects") for message in summaries
    )


async def test_loop_survives_and_limits_failure_logs(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    failing = CountingService(database, fail=True)
    caplog.set_level(logging.ERROR, logger="podium.services")

    await run_briefly(ServiceRunner([failing]), 0.3)

    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failing.steps >= 10
    assert 1 <= len(errors) <= 1 + failing.steps // 10


async def test_lifespan_runs_registered_services(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[CountingService] = []

    def create(db: Database, settings: Settings) -> Service:
        created.append(CountingService(db))
        return created[-1]

    monkeypatch.setattr(
        registry, "SERVICES", [ServiceEntry("counting", "Counts.", create)]
    )
    app = create_app(Settings(database_url=database_url), migrate_on_start=False)

    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.05)
        running = app.state.services.running
        names = app.state.services.names

    assert running
    assert names == ["counting"]
    assert created[0].steps >= 1
    assert not app.state.services.running


async def test_lifespan_skips_services_when_disabled(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        registry,
        "SERVICES",
        [ServiceEntry("counting", "Counts.", CountingService)],  # type: ignore[arg-type]
    )
    app = create_app(
        Settings(database_url=database_url, services_enabled=False),
        migrate_on_start=False,
    )

    async with app.router.lifespan_context(app):
        names = app.state.services.names

    assert names == []
