"""Storage tests for building task runs from client task-run state events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from podium.schemas.events import Event
from podium.storage import events as event_storage
from podium.storage.database import Database
from podium.storage.tables import flow_runs, flows, task_run_states, task_runs
from podium.storage.task_run_recorder import record_task_run_events

from .factories import NOW, task_run_event

SECOND = dt.timedelta(seconds=1)


async def make_flow_run(database: Database) -> UUID:
    flow_id, flow_run_id = uuid.uuid4(), uuid.uuid4()
    async with database.transaction() as connection:
        await connection.execute(
            sa.insert(flows).values(id=flow_id, name=f"flow-{flow_id}")
        )
        await connection.execute(
            sa.insert(flow_runs).values(
                id=flow_run_id, name="brave-otter", flow_id=flow_id
            )
        )
    return flow_run_id


async def ingest(database: Database, *bodies: dict[str, Any]) -> int:
    received = [Event.model_validate(body).receive() for body in bodies]
    async with database.transaction() as connection:
        new_events = await event_storage.write_events(connection, received)
        return await record_task_run_events(connection, new_events)


async def read_task_run(database: Database, task_run_id: UUID) -> Any:
    async with database.read() as connection:
        query = sa.select(task_runs).where(task_runs.c.id == task_run_id)
        return (await connection.execute(query)).one()


async def read_state_names(database: Database, task_run_id: UUID) -> list[str]:
    async with database.read() as connection:
        query = (
            sa.select(task_run_states.c.name)
            .where(task_run_states.c.task_run_id == task_run_id)
            .order_by(task_run_states.c.timestamp, task_run_states.c.id)
        )
        return list((await connection.execute(query)).scalars())


def lifecycle(
    task_run_id: UUID, flow_run_id: UUID, same_time: bool = False
) -> list[dict]:
    """Pending, Running and Completed events chained by `follows`."""
    ids = [uuid.uuid4() for _ in range(3)]
    times = [NOW, NOW, NOW] if same_time else [NOW, NOW + SECOND, NOW + 2 * SECOND]
    return [
        task_run_event(task_run_id, flow_run_id, "PENDING", times[0], event_id=ids[0]),
        task_run_event(
            task_run_id,
            flow_run_id,
            "RUNNING",
            times[1],
            event_id=ids[1],
            follows=ids[0],
            run_count=1,
            flow_run_run_count=1,
            start_time=times[1].isoformat(),
        ),
        task_run_event(
            task_run_id,
            flow_run_id,
            "COMPLETED",
            times[2],
            event_id=ids[2],
            follows=ids[1],
            run_count=1,
            flow_run_run_count=1,
            start_time=times[1].isoformat(),
            end_time=times[2].isoformat(),
            total_run_time=1.0,
        ),
    ]


async def test_recorder_creates_task_run_in_order(database: Database) -> None:
    flow_run_id, task_run_id = await make_flow_run(database), uuid.uuid4()
    for body in lifecycle(task_run_id, flow_run_id):
        await ingest(database, body)

    task_run = await read_task_run(database, task_run_id)
    assert task_run.flow_run_id == flow_run_id
    assert task_run.state_type == "COMPLETED"
    assert task_run.state_name == "Completed"
    assert task_run.run_count == 1
    assert task_run.start_time == NOW + SECOND
    assert task_run.end_time == NOW + 2 * SECOND
    assert task_run.total_run_time == 1.0
    assert task_run.task_key == "work-0f1e2d3c"
    assert await read_state_names(database, task_run_id) == [
        "Pending",
        "Running",
        "Completed",
    ]


async def test_recorder_keeps_latest_when_out_of_order(database: Database) -> None:
    flow_run_id, task_run_id = await make_flow_run(database), uuid.uuid4()
    pending, running, completed = lifecycle(task_run_id, flow_run_id)

    await ingest(database, completed)
    await ingest(database, pending)
    await ingest(database, running)

    task_run = await read_task_run(database, task_run_id)
    assert task_run.state_id == UUID(completed["id"])
    assert task_run.end_time == NOW + 2 * SECOND
    assert len(await read_state_names(database, task_run_id)) == 3


async def test_recorder_orders_same_timestamp_by_follows(database: Database) -> None:
    flow_run_id, task_run_id = await make_flow_run(database), uuid.uuid4()
    pending, running, completed = lifecycle(task_run_id, flow_run_id, same_time=True)

    await ingest(database, running)
    await ingest(database, completed)
    await ingest(database, pending)
    after_separate = await read_task_run(database, task_run_id)

    assert after_separate.state_type == "COMPLETED"


async def test_recorder_orders_same_timestamp_within_batch(database: Database) -> None:
    flow_run_id, task_run_id = await make_flow_run(database), uuid.uuid4()
    pending, running, completed = lifecycle(task_run_id, flow_run_id, same_time=True)
    # Ids that sort against the chain, so only `follows` can order them.
    for body, new_id in zip((pending, running, completed), (3, 2, 1), strict=True):
        body["id"] = str(UUID(int=new_id))
    running["follows"], completed["follows"] = pending["id"], running["id"]

    await ingest(database, completed, pending, running)

    task_run = await read_task_run(database, task_run_id)
    assert task_run.state_type == "COMPLETED"


async def test_recorder_ignores_resent_event(database: Database) -> None:
    flow_run_id, task_run_id = await make_flow_run(database), uuid.uuid4()
    pending, running, completed = lifecycle(task_run_id, flow_run_id)
    await ingest(database, pending, running, completed)

    written = await ingest(database, running, running)

    task_run = await read_task_run(database, task_run_id)
    assert written == 0
    assert task_run.state_type == "COMPLETED"
    assert await read_state_names(database, task_run_id) == [
        "Pending",
        "Running",
        "Completed",
    ]


async def test_recorder_sets_state_details_ids(database: Database) -> None:
    flow_run_id, task_run_id = await make_flow_run(database), uuid.uuid4()
    await ingest(database, lifecycle(task_run_id, flow_run_id)[0])

    async with database.read() as connection:
        query = sa.select(task_run_states.c.state_details)
        (details,) = (await connection.execute(query)).scalars()

    assert details["task_run_id"] == str(task_run_id)
    assert details["flow_run_id"] == str(flow_run_id)


async def test_recorder_skips_unknown_flow_run(database: Database) -> None:
    task_run_id = uuid.uuid4()

    written = await ingest(database, lifecycle(task_run_id, uuid.uuid4())[0])

    async with database.read() as connection:
        count = (
            await connection.execute(sa.select(sa.func.count()).select_from(task_runs))
        ).scalar()
    assert written == 0
    assert count == 0


async def test_recorder_reuses_id_of_same_natural_key(database: Database) -> None:
    flow_run_id = await make_flow_run(database)
    first, second = uuid.uuid4(), uuid.uuid4()
    await ingest(database, lifecycle(first, flow_run_id)[0])

    await ingest(database, lifecycle(second, flow_run_id)[1])

    task_run = await read_task_run(database, first)
    assert task_run.state_type == "RUNNING"
    assert await read_state_names(database, first) == ["Pending", "Running"]


async def test_recorder_ignores_server_orchestrated_events(database: Database) -> None:
    flow_run_id, task_run_id = await make_flow_run(database), uuid.uuid4()
    body = lifecycle(task_run_id, flow_run_id)[0]
    del body["resource"]["prefect.orchestration"]

    assert await ingest(database, body) == 0


async def test_recorder_handles_many_runs_in_one_batch(database: Database) -> None:
    flow_run_id = await make_flow_run(database)
    bodies = []
    for index in range(200):
        for body in lifecycle(uuid.uuid4(), flow_run_id):
            body["payload"]["task_run"]["dynamic_key"] = str(index)
            bodies.append(body)

    written = await ingest(database, *bodies)

    async with database.read() as connection:
        query = sa.select(task_runs.c.state_type, sa.func.count()).group_by(
            task_runs.c.state_type
        )
        counts = dict((await connection.execute(query)).all())
    assert written == 600
    assert counts == {"COMPLETED": 200}
