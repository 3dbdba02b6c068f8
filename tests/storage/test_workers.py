"""Storage tests for choosing runs for workers: priorities, limits, fairness."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from podium.schemas.work_pools import WorkPoolCreate, WorkPoolUpdate
from podium.schemas.work_queues import WorkQueueCreate, WorkQueueUpdate
from podium.storage import work_pools, work_queues, workers
from podium.storage.database import Database
from podium.storage.tables import flow_runs, flows
from podium.storage.tables.deployments import deployments

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


async def make_pool(
    db: Database, name: str = "pool", **fields: Any
) -> dict[str, uuid.UUID]:
    """Create a pool with queues `high` (priority 1) and `low`; return queue ids."""
    async with db.transaction() as connection:
        pool_id = await work_pools.insert_work_pool(
            connection, WorkPoolCreate(name=name, type="process", **fields)
        )
        high = await work_queues.insert_work_queue(
            connection, pool_id, WorkQueueCreate(name="high", priority=1)
        )
        low = await work_queues.insert_work_queue(
            connection, pool_id, WorkQueueCreate(name="low")
        )
    return {"pool": pool_id, "high": high, "low": low}


async def make_flow(db: Database) -> uuid.UUID:
    async with db.transaction() as connection:
        return (
            await connection.execute(
                sa.insert(flows)
                .values(name=f"flow-{uuid.uuid4().hex[:8]}")
                .returning(flows.c.id)
            )
        ).scalar_one()


async def make_deployment(
    db: Database, flow_id: uuid.UUID, limit: int | None, strategy: str = "ENQUEUE"
) -> uuid.UUID:
    async with db.transaction() as connection:
        return (
            await connection.execute(
                sa.insert(deployments)
                .values(
                    name=f"dep-{uuid.uuid4().hex[:8]}",
                    flow_id=flow_id,
                    concurrency_limit=limit,
                    concurrency_options={"collision_strategy": strategy},
                )
                .returning(deployments.c.id)
            )
        ).scalar_one()


async def add_runs(
    db: Database,
    flow_id: uuid.UUID,
    queue_id: uuid.UUID,
    count: int,
    state_type: str = "SCHEDULED",
    deployment_id: uuid.UUID | None = None,
    start: dt.datetime = NOW - dt.timedelta(hours=1),
    step: dt.timedelta = dt.timedelta(seconds=1),
) -> list[uuid.UUID]:
    """Insert `count` runs straight into the table, one `step` apart."""
    rows = [
        {
            "id": uuid.uuid4(),
            "name": f"run-{i}",
            "flow_id": flow_id,
            "work_queue_id": queue_id,
            "work_queue_name": "q",
            "deployment_id": deployment_id,
            "state_type": state_type,
            "state_name": state_type.capitalize(),
            "next_scheduled_start_time": start + i * step,
            "expected_start_time": start + i * step,
        }
        for i in range(count)
    ]
    async with db.transaction() as connection:
        await connection.execute(sa.insert(flow_runs), rows)
    return [row["id"] for row in rows]


async def choose(db: Database, limit: int = 200, **kwargs: Any) -> list[uuid.UUID]:
    async with db.read() as connection:
        chosen, _ = await workers.get_scheduled_flow_runs(
            connection,
            kwargs.pop("pool", "pool"),
            kwargs.pop("queue_names", None),
            kwargs.pop("scheduled_before", NOW),
            kwargs.pop("scheduled_after", None),
            limit,
        )
    return [c.flow_run_id for c in chosen]


async def test_high_priority_queue_served_first(database: Database) -> None:
    ids = await make_pool(database)
    flow_id = await make_flow(database)
    low_runs = await add_runs(
        database, flow_id, ids["low"], 5, start=NOW - dt.timedelta(hours=2)
    )
    high_runs = await add_runs(database, flow_id, ids["high"], 5)

    chosen = await choose(database, limit=7)

    assert chosen == high_runs + low_runs[:2]


async def test_runs_ordered_by_start_time_and_bounded(database: Database) -> None:
    ids = await make_pool(database)
    flow_id = await make_flow(database)
    due = await add_runs(
        database, flow_id, ids["high"], 3, start=NOW - dt.timedelta(minutes=5)
    )
    await add_runs(
        database, flow_id, ids["high"], 3, start=NOW + dt.timedelta(minutes=5)
    )

    chosen = await choose(database)
    after = await choose(
        database,
        scheduled_after=NOW - dt.timedelta(minutes=5) + dt.timedelta(seconds=1),
    )

    assert chosen == due
    assert after == due[1:]


async def test_queue_limit_counts_pending_running_cancelling(
    database: Database,
) -> None:
    ids = await make_pool(database)
    flow_id = await make_flow(database)
    async with database.transaction() as connection:
        await work_queues.update_work_queue(
            connection, ids["high"], WorkQueueUpdate(concurrency_limit=5)
        )
    for state_type in ("PENDING", "RUNNING", "CANCELLING", "COMPLETED"):
        await add_runs(database, flow_id, ids["high"], 1, state_type=state_type)
    scheduled = await add_runs(database, flow_id, ids["high"], 10)

    chosen = await choose(database)

    assert chosen == scheduled[:2]


async def test_pool_limit_caps_all_queues(database: Database) -> None:
    ids = await make_pool(database, concurrency_limit=4)
    flow_id = await make_flow(database)
    await add_runs(database, flow_id, ids["low"], 1, state_type="RUNNING")
    high = await add_runs(database, flow_id, ids["high"], 2)
    low = await add_runs(database, flow_id, ids["low"], 5)

    chosen = await choose(database)

    assert chosen == high + low[:1]


async def test_paused_pool_and_queue_return_nothing(database: Database) -> None:
    ids = await make_pool(database)
    flow_id = await make_flow(database)
    await add_runs(database, flow_id, ids["high"], 3)
    low = await add_runs(database, flow_id, ids["low"], 3)

    async with database.transaction() as connection:
        await work_queues.update_work_queue(
            connection, ids["high"], WorkQueueUpdate(is_paused=True)
        )
    without_high = await choose(database)
    async with database.transaction() as connection:
        await work_pools.update_work_pool(
            connection, "pool", WorkPoolUpdate(is_paused=True)
        )
    paused_pool = await choose(database)

    assert without_high == low
    assert paused_pool == []


async def test_named_queues_only(database: Database) -> None:
    ids = await make_pool(database)
    flow_id = await make_flow(database)
    await add_runs(database, flow_id, ids["high"], 3)
    low = await add_runs(database, flow_id, ids["low"], 3)

    chosen = await choose(database, queue_names=["low"])

    assert chosen == low


async def test_full_deployment_cannot_starve_others(database: Database) -> None:
    ids = await make_pool(database)
    flow_id = await make_flow(database)
    busy = await make_deployment(database, flow_id, limit=2)
    other = await make_deployment(database, flow_id, limit=None)
    await add_runs(
        database, flow_id, ids["high"], 1, state_type="RUNNING", deployment_id=busy
    )
    waiting = await add_runs(
        database,
        flow_id,
        ids["high"],
        3000,
        deployment_id=busy,
        start=NOW - dt.timedelta(days=1),
    )
    others = await add_runs(database, flow_id, ids["high"], 20, deployment_id=other)

    chosen = await choose(database, limit=10)

    assert chosen == waiting[:1] + others[:9]


async def test_deployment_cap_shared_across_queues(database: Database) -> None:
    ids = await make_pool(database)
    flow_id = await make_flow(database)
    capped = await make_deployment(database, flow_id, limit=3)
    high = await add_runs(database, flow_id, ids["high"], 2, deployment_id=capped)
    low = await add_runs(database, flow_id, ids["low"], 2, deployment_id=capped)

    chosen = await choose(database)

    assert chosen == high + low[:1]


async def test_thousands_of_runs_respect_limits(database: Database) -> None:
    ids = await make_pool(database, concurrency_limit=150)
    flow_id = await make_flow(database)
    async with database.transaction() as connection:
        await work_queues.update_work_queue(
            connection, ids["high"], WorkQueueUpdate(concurrency_limit=100)
        )
    await add_runs(database, flow_id, ids["high"], 40, state_type="RUNNING")
    high = await add_runs(database, flow_id, ids["high"], 2500)
    low = await add_runs(database, flow_id, ids["low"], 2500)

    started = dt.datetime.now(dt.UTC)
    chosen = await choose(database, limit=200)
    elapsed = (dt.datetime.now(dt.UTC) - started).total_seconds()

    assert chosen == high[:60] + low[:50]
    assert elapsed < 5


async def test_missing_queue_name_raises_not_found(database: Database) -> None:
    await make_pool(database)

    async with database.read() as connection:
        try:
            await workers.get_scheduled_flow_runs(
                connection, "pool", ["nope"], None, None, 10
            )
        except Exception as exc:  # noqa: BLE001 - the type is checked below
            error = exc
    assert type(error).__name__ == "ObjectNotFound"
    assert "pool/nope" in str(error)


async def test_stale_worker_goes_offline_and_pool_not_ready(database: Database) -> None:
    await make_pool(database)
    async with database.transaction() as connection:
        await workers.record_heartbeat(connection, "pool", "w1", 10, NOW)
        await workers.record_heartbeat(connection, "pool", "w2", None, NOW)

    async with database.transaction() as connection:
        early = await workers.mark_stale_workers_offline(
            connection, NOW + dt.timedelta(seconds=29), 90
        )
        ready = await work_pools.read_work_pool_by_name(connection, "pool")
    async with database.transaction() as connection:
        first = await workers.mark_stale_workers_offline(
            connection, NOW + dt.timedelta(seconds=31), 90
        )
        still_ready = await work_pools.read_work_pool_by_name(connection, "pool")
    async with database.transaction() as connection:
        second = await workers.mark_stale_workers_offline(
            connection, NOW + dt.timedelta(seconds=91), 90
        )
        not_ready = await work_pools.read_work_pool_by_name(connection, "pool")
        listed = await workers.read_workers(connection, "pool", sa.true())

    assert early == 0
    assert ready.status == "READY"
    assert first == 1
    assert still_ready.status == "READY"
    assert second == 2
    assert not_ready.status == "NOT_READY"
    assert {w.status for w in listed} == {"OFFLINE"}
