"""Tests for the late-runs, worker-status and cancellation-cleanup services,
and for deployment concurrency limits applied by set_state."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import sqlalchemy as sa

from podium.services.cancellation_cleanup import CancellationCleanup
from podium.services.late_runs import MarkLateRuns
from podium.services.worker_status import UpdateWorkerStatus
from podium.storage import run_sweeps
from podium.storage.database import Database
from podium.storage.tables import flow_runs
from podium.storage.tables.deployments import deployments


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def make_flow(client: httpx.AsyncClient) -> str:
    response = await client.post("/flows/", json={"name": f"f-{uuid.uuid4().hex[:8]}"})
    return str(response.json()["id"])


async def scheduled_run(
    client: httpx.AsyncClient, flow_id: str, at: dt.datetime, **fields: object
) -> dict:
    body = {
        "flow_id": flow_id,
        "state": {
            "type": "SCHEDULED",
            "state_details": {"scheduled_time": at.isoformat()},
        },
        **fields,
    }
    response = await client.post("/flow_runs/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def set_state(
    client: httpx.AsyncClient, run_id: str, state_type: str, **fields: object
) -> dict:
    response = await client.post(
        f"/flow_runs/{run_id}/set_state", json={"state": {"type": state_type, **fields}}
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


async def read_run(client: httpx.AsyncClient, run_id: str) -> dict:
    return (await client.get(f"/flow_runs/{run_id}")).json()


# --- Late runs ----------------------------------------------------------------


async def test_late_runs_marks_overdue_run(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await make_flow(client)
    overdue = await scheduled_run(client, flow_id, utcnow() - dt.timedelta(minutes=5))
    upcoming = await scheduled_run(client, flow_id, utcnow() + dt.timedelta(minutes=5))
    service = MarkLateRuns(database, loop_seconds=5, grace_seconds=15)

    marked = await service.run_once(utcnow())
    marked_again = await service.run_once(utcnow())
    late = await read_run(client, overdue["id"])

    assert marked == 1
    assert marked_again == 0
    assert late["state"]["name"] == "Late"
    assert late["state"]["type"] == "SCHEDULED"
    assert late["state"]["state_details"]["scheduled_time"] is not None
    assert (await read_run(client, upcoming["id"]))["state"]["name"] == "Scheduled"


async def test_late_runs_skips_run_that_moved_on(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await make_flow(client)
    run = await scheduled_run(client, flow_id, utcnow() - dt.timedelta(minutes=5))
    async with database.read() as connection:
        candidates = await run_sweeps.read_late_run_candidates(connection, utcnow(), 10)

    # A worker takes the run between the service's read and its write.
    await set_state(client, run["id"], "PENDING")
    async with database.transaction() as connection:
        written = await run_sweeps.mark_run_late(
            connection, candidates[0].id, candidates[0].state_id, utcnow()
        )

    assert [c.id for c in candidates] == [uuid.UUID(run["id"])]
    assert written is False
    assert (await read_run(client, run["id"]))["state"]["type"] == "PENDING"


async def test_late_runs_ignores_awaiting_retry(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await make_flow(client)
    run = await scheduled_run(client, flow_id, utcnow() - dt.timedelta(minutes=5))
    async with database.transaction() as connection:
        await connection.execute(
            sa.update(flow_runs)
            .where(flow_runs.c.id == uuid.UUID(run["id"]))
            .values(state_name="AwaitingRetry")
        )

    marked = await MarkLateRuns(database, 5, 15).run_once(utcnow())

    assert marked == 0


# --- Deployment concurrency ---------------------------------------------------


async def make_deployment(
    database: Database, flow_id: str, limit: int, strategy: str
) -> str:
    async with database.transaction() as connection:
        deployment_id = (
            await connection.execute(
                sa.insert(deployments)
                .values(
                    name=f"d-{uuid.uuid4().hex[:8]}",
                    flow_id=uuid.UUID(flow_id),
                    concurrency_limit=limit,
                    concurrency_options={"collision_strategy": strategy},
                )
                .returning(deployments.c.id)
            )
        ).scalar_one()
    return str(deployment_id)


async def deployment_runs(
    client: httpx.AsyncClient, database: Database, deployment_id: str, count: int
) -> list[str]:
    flow_id = await make_flow(client)
    ids = []
    for _ in range(count):
        run = await scheduled_run(client, flow_id, utcnow() - dt.timedelta(seconds=1))
        ids.append(run["id"])
    async with database.transaction() as connection:
        await connection.execute(
            sa.update(flow_runs)
            .where(flow_runs.c.id.in_([uuid.UUID(i) for i in ids]))
            .values(deployment_id=uuid.UUID(deployment_id))
        )
    return ids


async def test_enqueue_strategy_waits_for_slot(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await make_flow(client)
    deployment_id = await make_deployment(database, flow_id, 1, "ENQUEUE")
    first, second = await deployment_runs(client, database, deployment_id, 2)

    accepted = await set_state(client, first, "PENDING")
    waiting = await set_state(client, second, "PENDING")
    waiting_run = await read_run(client, second)
    await set_state(client, first, "RUNNING")
    await set_state(client, first, "COMPLETED")
    after_release = await set_state(client, second, "PENDING")

    assert accepted["status"] == "ACCEPT"
    assert waiting["status"] == "REJECT"
    assert waiting["state"]["name"] == "AwaitingConcurrencySlot"
    assert waiting_run["state"]["type"] == "SCHEDULED"
    assert waiting_run["state"]["name"] == "AwaitingConcurrencySlot"
    assert after_release["status"] == "ACCEPT"


async def test_cancel_new_strategy_cancels_run(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await make_flow(client)
    deployment_id = await make_deployment(database, flow_id, 1, "CANCEL_NEW")
    first, second = await deployment_runs(client, database, deployment_id, 2)

    await set_state(client, first, "PENDING")
    await set_state(client, first, "RUNNING")
    rejected = await set_state(client, second, "PENDING")
    # A crash frees the slot as well as a normal end.
    await set_state(client, first, "CRASHED")
    third = (await deployment_runs(client, database, deployment_id, 1))[0]
    accepted = await set_state(client, third, "PENDING")

    assert rejected["status"] == "REJECT"
    assert (await read_run(client, second))["state"]["type"] == "CANCELLED"
    assert accepted["status"] == "ACCEPT"


async def test_zero_limit_aborts(client: httpx.AsyncClient, database: Database) -> None:
    flow_id = await make_flow(client)
    deployment_id = await make_deployment(database, flow_id, 0, "ENQUEUE")
    (run,) = await deployment_runs(client, database, deployment_id, 1)

    result = await set_state(client, run, "PENDING")

    assert result["status"] == "ABORT"


# --- Cancellation -------------------------------------------------------------


async def test_cancel_scheduled_run_ends_cancelled(client: httpx.AsyncClient) -> None:
    flow_id = await make_flow(client)
    run = await scheduled_run(client, flow_id, utcnow() + dt.timedelta(hours=1))

    await set_state(client, run["id"], "CANCELLING")

    assert (await read_run(client, run["id"]))["state"]["type"] == "CANCELLED"


async def test_cancel_running_run_waits_in_cancelling(
    client: httpx.AsyncClient,
) -> None:
    flow_id = await make_flow(client)
    run = await scheduled_run(client, flow_id, utcnow())
    await set_state(client, run["id"], "PENDING")
    await set_state(client, run["id"], "RUNNING")
    await client.patch(f"/flow_runs/{run['id']}", json={"infrastructure_pid": "123"})

    await set_state(client, run["id"], "CANCELLING")
    cancelling = await read_run(client, run["id"])
    await set_state(client, run["id"], "CANCELLED")

    assert cancelling["state"]["type"] == "CANCELLING"
    assert (await read_run(client, run["id"]))["state"]["type"] == "CANCELLED"


async def test_cleanup_ends_stuck_cancelling_run(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await make_flow(client)
    run = await scheduled_run(client, flow_id, utcnow())
    await set_state(client, run["id"], "PENDING")
    await set_state(client, run["id"], "RUNNING")
    await client.patch(f"/flow_runs/{run['id']}", json={"infrastructure_pid": "123"})
    await set_state(client, run["id"], "CANCELLING")
    service = CancellationCleanup(database, 20, cancelling_timeout_seconds=300)

    too_early = await service.run_once(utcnow())
    later = await service.run_once(utcnow() + dt.timedelta(seconds=301))

    assert too_early == 0
    assert later == 1
    assert (await read_run(client, run["id"]))["state"]["type"] == "CANCELLED"


async def test_cleanup_cancels_open_task_runs(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await make_flow(client)
    run = await scheduled_run(client, flow_id, utcnow())
    await set_state(client, run["id"], "PENDING")
    await set_state(client, run["id"], "RUNNING")
    task = await client.post(
        "/task_runs/",
        json={
            "flow_run_id": run["id"],
            "task_key": "t",
            "dynamic_key": "0",
            "state": {"type": "RUNNING"},
        },
    )
    await set_state(client, run["id"], "CANCELLED")

    changed = await CancellationCleanup(database, 20, 300).run_once(utcnow())
    task_run = (await client.get(f"/task_runs/{task.json()['id']}")).json()

    assert changed == 1
    assert task_run["state"]["type"] == "CANCELLED"


async def test_worker_status_marks_idle_queue_not_ready(
    client: httpx.AsyncClient, database: Database
) -> None:
    await client.post("/work_pools/", json={"name": "idle", "type": "process"})
    await client.post("/work_pools/idle/get_scheduled_flow_runs", json={})
    service = UpdateWorkerStatus(database, 15, offline_after_seconds=90)

    soon = await service.run_once(utcnow())
    later = await service.run_once(utcnow() + dt.timedelta(seconds=61))
    queue = (await client.get("/work_pools/idle/queues/default")).json()

    assert soon == 0
    assert later == 1
    assert queue["status"] == "NOT_READY"
