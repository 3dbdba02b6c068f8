"""The scheduler service on both backends, with fixed clocks and racing writers."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from podium.orchestration.schedules import FillLimits
from podium.schemas.deployments import DeploymentCreate, DeploymentUpdate
from podium.schemas.flows import FlowCreate
from podium.schemas.schedules import DeploymentScheduleCreate
from podium.services.registry import SERVICES
from podium.services.scheduler import Scheduler
from podium.storage import deployments as storage
from podium.storage.database import Database
from podium.storage.flows import create_flow
from podium.storage.tables import flow_runs

NOW = dt.datetime(2024, 1, 1, 10, 0, 30, tzinfo=dt.UTC)
LIMITS = FillLimits(horizon=dt.timedelta(days=7), min_runs=3, max_runs=20)
HOURLY = DeploymentScheduleCreate.model_validate({"schedule": {"cron": "0 * * * *"}})


async def make_deployment(
    database: Database,
    name: str = "nightly",
    schedules: list[dict[str, Any]] | None = None,
) -> UUID:
    async with database.transaction() as connection:
        flow, _ = await create_flow(connection, FlowCreate(name="etl"))
        wanted = [DeploymentScheduleCreate.model_validate(s) for s in schedules or []]
        body = DeploymentCreate(
            name=name, flow_id=flow.id, schedules=wanted or [HOURLY]
        )
        deployment, _ = await storage.create_deployment(connection, body, NOW)
    return deployment.id


async def run_times(
    database: Database, deployment_id: UUID | None = None
) -> list[dt.datetime]:
    query = sa.select(flow_runs.c.expected_start_time).where(
        flow_runs.c.state_type == "SCHEDULED"
    )
    if deployment_id is not None:
        query = query.where(flow_runs.c.deployment_id == deployment_id)
    async with database.read() as connection:
        return sorted((await connection.execute(query)).scalars())


async def run_counts_by_occurrence(
    database: Database,
) -> Counter[tuple[UUID, dt.datetime]]:
    query = sa.select(flow_runs.c.deployment_id, flow_runs.c.expected_start_time).where(
        flow_runs.c.state_type == "SCHEDULED"
    )
    async with database.read() as connection:
        return Counter(tuple(row) for row in await connection.execute(query))


def scheduler(database: Database) -> Scheduler:
    return Scheduler(database, loop_seconds=5, limits=LIMITS)


def test_scheduler_is_registered() -> None:
    assert "scheduler" in [entry.name for entry in SERVICES]


async def test_scheduler_fills_to_max_runs(database: Database) -> None:
    deployment_id = await make_deployment(database)
    created = await scheduler(database).run_once(NOW)
    times = await run_times(database, deployment_id)
    assert created == 20
    assert times[0] == dt.datetime(2024, 1, 1, 11, tzinfo=dt.UTC)
    assert times[-1] == dt.datetime(2024, 1, 2, 6, tzinfo=dt.UTC)


async def test_scheduler_restart_creates_no_duplicates(database: Database) -> None:
    await make_deployment(database)
    await scheduler(database).run_once(NOW)
    restarted = await scheduler(database).run_once(NOW + dt.timedelta(seconds=5))
    assert restarted == 0
    assert max((await run_counts_by_occurrence(database)).values()) == 1


async def test_scheduler_refills_when_runs_pass(database: Database) -> None:
    deployment_id = await make_deployment(database)
    service = scheduler(database)
    await service.run_once(NOW)
    # Eighteen of twenty runs have passed, so fewer than three remain pending.
    later = NOW + dt.timedelta(hours=18)
    added = await service.run_once(later)
    times = await run_times(database, deployment_id)
    assert added == 18
    assert times[-1] == dt.datetime(2024, 1, 3, 0, tzinfo=dt.UTC)
    assert len(times) == len(set(times))


async def test_scheduler_idle_step_changes_nothing(database: Database) -> None:
    await make_deployment(database)
    service = scheduler(database)
    await service.run_once(NOW)
    assert await service.run_once(NOW + dt.timedelta(minutes=5)) == 0


async def test_scheduler_schedule_parameters_override(database: Database) -> None:
    deployment_id = await make_deployment(
        database,
        schedules=[{"schedule": {"cron": "0 * * * *"}, "parameters": {"x": 2}}],
    )
    async with database.transaction() as connection:
        await storage.update_deployment(
            connection,
            deployment_id,
            DeploymentUpdate(
                parameters={"x": 1, "y": 1}, enforce_parameter_schema=False
            ),
            NOW,
        )
    await scheduler(database).run_once(NOW)
    async with database.read() as connection:
        parameters = (
            await connection.execute(sa.select(flow_runs.c.parameters).limit(1))
        ).scalar_one()
    assert parameters == {"x": 2, "y": 1}


async def test_scheduler_max_scheduled_runs_per_schedule(database: Database) -> None:
    await make_deployment(
        database,
        schedules=[{"schedule": {"cron": "* * * * *"}, "max_scheduled_runs": 4}],
    )
    assert await scheduler(database).run_once(NOW) == 4


async def test_scheduler_many_deployments_in_batches(database: Database) -> None:
    for i in range(120):
        await make_deployment(database, f"d{i}")
    created = await scheduler(database).run_once(NOW)
    assert created == 120 * 20


async def test_redeploy_during_fill_keeps_one_run_per_time(database: Database) -> None:
    deployment_id = await make_deployment(database)
    await scheduler(database).run_once(NOW)
    async with database.transaction() as connection:
        flow_id = (await storage.read_deployment(connection, deployment_id)).flow_id
        body = DeploymentCreate(name="nightly", flow_id=flow_id, schedules=[HOURLY])
        await storage.create_deployment(connection, body, NOW + dt.timedelta(seconds=1))
    await scheduler(database).run_once(NOW + dt.timedelta(seconds=2))
    times = await run_times(database, deployment_id)
    assert len(times) == 20
    assert len(set(times)) == 20


async def test_two_schedulers_race(database: Database, database_url: str) -> None:
    for i in range(30):
        await make_deployment(database, f"d{i}")
    other = Database(database_url)
    try:
        for step in range(3):
            now = NOW + dt.timedelta(hours=18 * step)
            await asyncio.gather(
                scheduler(database).run_once(now), scheduler(other).run_once(now)
            )
    finally:
        await other.dispose()
    counts = await run_counts_by_occurrence(database)
    assert max(counts.values()) == 1
    assert len(counts) == 30 * (20 + 18 + 18)


async def test_scheduler_races_redeploys(database: Database, database_url: str) -> None:
    ids = [await make_deployment(database, f"d{i}") for i in range(10)]
    async with database.read() as connection:
        flow_id = (await storage.read_deployment(connection, ids[0])).flow_id
    other = Database(database_url)

    async def redeploy_all(at: dt.datetime) -> None:
        for i in range(10):
            async with other.transaction() as connection:
                body = DeploymentCreate(
                    name=f"d{i}", flow_id=flow_id, schedules=[HOURLY]
                )
                await storage.create_deployment(connection, body, at)

    try:
        for step in range(3):
            now = NOW + dt.timedelta(seconds=step)
            await asyncio.gather(scheduler(database).run_once(now), redeploy_all(now))
        await scheduler(database).run_once(NOW + dt.timedelta(seconds=10))
    finally:
        await other.dispose()
    counts = await run_counts_by_occurrence(database)
    assert max(counts.values()) == 1
    assert len(counts) == 10 * 20
