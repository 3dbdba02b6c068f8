"""Storage tests for the events recorded when a flow run changes state."""

from __future__ import annotations

import datetime as dt
import uuid
from uuid import UUID

import pytest
import sqlalchemy as sa

from podium.events import EventsRuntime
from podium.orchestration.context import StateSnapshot, StateType
from podium.schemas.events import EventFilter
from podium.schemas.states import StateCreate
from podium.storage import events as storage
from podium.storage.database import Database
from podium.storage.flow_run_events import record_flow_run_state_change, state_payload
from podium.storage.flow_runs import set_flow_run_state
from podium.storage.tables import flow_runs, flows, task_runs
from podium.storage.tables.deployments import deployments
from podium.storage.tables.work_pools import work_pools, work_queues

from .factories import NOW


async def make_flow_run(database: Database, **fields: object) -> tuple[UUID, UUID]:
    flow_id, flow_run_id = uuid.uuid4(), uuid.uuid4()
    async with database.transaction() as connection:
        await connection.execute(
            sa.insert(flows).values(id=flow_id, name="etl", tags=["team-a", "shared"])
        )
        await connection.execute(
            sa.insert(flow_runs).values(
                id=flow_run_id,
                name="brave-otter",
                flow_id=flow_id,
                run_count=1,
                **fields,
            )
        )
    return flow_id, flow_run_id


def snapshot(
    state_type: StateType, name: str, at: dt.datetime, message: str | None = None
) -> StateSnapshot:
    return StateSnapshot(
        id=uuid.uuid4(), type=state_type, name=name, timestamp=at, message=message
    )


async def read_all(database: Database, around: dt.datetime = NOW) -> list:
    window = {
        "since": (around - dt.timedelta(days=1)).isoformat(),
        "until": (around + dt.timedelta(days=1)).isoformat(),
    }
    async with database.read() as connection:
        return await storage.read_events(
            connection, EventFilter.model_validate({"occurred": window})
        )


async def test_state_change_event_shape(database: Database) -> None:
    flow_id, flow_run_id = await make_flow_run(
        database,
        tags=["shared", "nightly"],
        created_by={
            "type": "DEPLOYMENT",
            "id": str(uuid.uuid4()),
            "display_value": "etl/prod",
        },
    )
    running = snapshot(StateType.RUNNING, "Running", NOW)
    completed = snapshot(
        StateType.COMPLETED, "Completed", NOW + dt.timedelta(seconds=3), "done"
    )

    async with database.transaction() as connection:
        await record_flow_run_state_change(connection, flow_run_id, running, completed)
    (event,) = await read_all(database)

    assert event.id == completed.id
    assert event.event == "prefect.flow-run.Completed"
    assert event.occurred == completed.timestamp
    assert event.follows == running.id
    assert event.resource == {
        "prefect.resource.id": f"prefect.flow-run.{flow_run_id}",
        "prefect.resource.name": "brave-otter",
        "prefect.run-count": "1",
        "prefect.state-message": "done",
        "prefect.state-name": "Completed",
        "prefect.state-timestamp": completed.timestamp.isoformat(),
        "prefect.state-type": "COMPLETED",
    }
    assert event.related[0] == {
        "prefect.resource.id": f"prefect.flow.{flow_id}",
        "prefect.resource.role": "flow",
        "prefect.resource.name": "etl",
    }
    assert [r["prefect.resource.id"] for r in event.related[1:4]] == [
        "prefect.tag.nightly",
        "prefect.tag.shared",
        "prefect.tag.team-a",
    ]
    assert event.related[4]["prefect.resource.role"] == "creator"
    assert event.payload == {
        "intended": {"from": "RUNNING", "to": "COMPLETED"},
        "initial_state": {"type": "RUNNING", "name": "Running"},
        "validated_state": {
            "type": "COMPLETED",
            "name": "Completed",
            "message": "done",
        },
    }


async def test_state_change_event_without_initial_state(database: Database) -> None:
    _, flow_run_id = await make_flow_run(database)
    pending = snapshot(StateType.PENDING, "Pending", NOW)

    async with database.transaction() as connection:
        await record_flow_run_state_change(connection, flow_run_id, None, pending)
    (event,) = await read_all(database)

    assert event.follows is None
    assert event.payload["intended"] == {"from": None, "to": "PENDING"}
    assert event.payload["initial_state"] is None


async def test_state_change_event_skips_follows_when_far_apart(
    database: Database,
) -> None:
    _, flow_run_id = await make_flow_run(database)
    scheduled = snapshot(StateType.SCHEDULED, "Scheduled", NOW - dt.timedelta(hours=1))
    pending = snapshot(StateType.PENDING, "Pending", NOW)

    async with database.transaction() as connection:
        await record_flow_run_state_change(connection, flow_run_id, scheduled, pending)
    (event,) = await read_all(database)

    assert event.follows is None


async def test_state_change_event_rolled_back_with_caller(database: Database) -> None:
    _, flow_run_id = await make_flow_run(database)

    try:
        async with database.transaction() as connection:
            await record_flow_run_state_change(
                connection,
                flow_run_id,
                None,
                snapshot(StateType.PENDING, "Pending", NOW),
            )
            raise RuntimeError("the caller's transaction fails")
    except RuntimeError:
        pass

    assert await read_all(database) == []


async def test_state_change_event_published_after_commit(database: Database) -> None:
    _, flow_run_id = await make_flow_run(database)
    published: list = []
    storage.on_events_committed(database, published.extend)
    pending = snapshot(StateType.PENDING, "Pending", NOW)

    async with database.transaction() as connection:
        await record_flow_run_state_change(connection, flow_run_id, None, pending)
        assert published == []

    assert [e.id for e in published] == [pending.id]


async def test_state_change_event_goes_through_running_pipeline(
    database: Database,
) -> None:
    _, flow_run_id = await make_flow_run(database)
    runtime = EventsRuntime(database)
    published: list = []
    runtime.listeners.append(published.extend)
    await runtime.start()
    committed = snapshot(StateType.PENDING, "Pending", NOW)
    rolled_back = snapshot(StateType.RUNNING, "Running", NOW)
    try:
        async with database.transaction() as connection:
            await record_flow_run_state_change(connection, flow_run_id, None, committed)
            assert await read_all(database) == []
        with pytest.raises(RuntimeError):
            async with database.transaction() as connection:
                await record_flow_run_state_change(
                    connection, flow_run_id, committed, rolled_back
                )
                raise RuntimeError("the caller's transaction fails")
    finally:
        # Stopping stores everything already handed to the pipeline.
        await runtime.stop()

    assert [event.id for event in await read_all(database)] == [committed.id]
    assert [event.id for event in published] == [committed.id]


def test_state_payload_for_paused_state() -> None:
    paused = StateSnapshot(
        id=uuid.uuid4(),
        type=StateType.PAUSED,
        name="Suspended",
        timestamp=NOW,
        state_details={"pause_reschedule": True},
    )

    assert state_payload(paused) == {
        "type": "PAUSED",
        "name": "Suspended",
        "pause_reschedule": "true",
    }


async def test_set_state_event_names_every_related_row(database: Database) -> None:
    flow_id, flow_run_id = await make_flow_run(database, tags=["nightly"])
    pool_id, queue_id, deployment_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    parent_run_id, parent_task_id = uuid.uuid4(), uuid.uuid4()
    async with database.transaction() as connection:
        await connection.execute(
            sa.insert(work_pools).values(id=pool_id, name="pool-a", type="process")
        )
        await connection.execute(
            sa.insert(work_queues).values(
                id=queue_id, work_pool_id=pool_id, name="queue-a", priority=1
            )
        )
        await connection.execute(
            sa.insert(deployments).values(
                id=deployment_id, name="prod", flow_id=flow_id, tags=["deployed"]
            )
        )
        await connection.execute(
            sa.insert(flow_runs).values(
                id=parent_run_id, name="parent", flow_id=flow_id
            )
        )
        await connection.execute(
            sa.insert(task_runs).values(
                id=parent_task_id,
                name="subflow-task",
                flow_run_id=parent_run_id,
                task_key="k",
                dynamic_key="0",
                tags=["from-parent"],
            )
        )
        await connection.execute(
            sa.update(flow_runs)
            .where(flow_runs.c.id == flow_run_id)
            .values(
                deployment_id=deployment_id,
                work_queue_id=queue_id,
                parent_task_run_id=parent_task_id,
            )
        )
        await set_flow_run_state(
            connection, flow_run_id, StateCreate(type=StateType.PENDING)
        )

    events = [
        e
        for e in await read_all(database, dt.datetime.now(dt.UTC))
        if e.resource_id.endswith(str(flow_run_id))
    ]
    (event,) = events
    assert [
        (r["prefect.resource.role"], r["prefect.resource.id"]) for r in event.related
    ] == [
        ("flow", f"prefect.flow.{flow_id}"),
        ("deployment", f"prefect.deployment.{deployment_id}"),
        ("work-queue", f"prefect.work-queue.{queue_id}"),
        ("work-pool", f"prefect.work-pool.{pool_id}"),
        ("task-run", f"prefect.task-run.{parent_task_id}"),
        ("tag", "prefect.tag.deployed"),
        ("tag", "prefect.tag.from-parent"),
        ("tag", "prefect.tag.nightly"),
        ("tag", "prefect.tag.shared"),
        ("tag", "prefect.tag.team-a"),
    ]
    assert event.related[1]["prefect.resource.name"] == "prod"
    assert event.related[2]["prefect.resource.name"] == "queue-a"
    assert event.related[3]["prefect.work-pool.type"] == "process"
    assert event.related[4]["prefect.resource.name"] == "subflow-task"


async def test_set_state_event_has_run_count_after_update(database: Database) -> None:
    _, flow_run_id = await make_flow_run(database)
    async with database.transaction() as connection:
        await connection.execute(
            sa.update(flow_runs)
            .where(flow_runs.c.id == flow_run_id)
            .values(run_count=0)
        )
        for state_type in (StateType.PENDING, StateType.RUNNING):
            await set_flow_run_state(
                connection, flow_run_id, StateCreate(type=state_type)
            )

    events = await read_all(database, dt.datetime.now(dt.UTC))
    counts = {e.event: e.resource["prefect.run-count"] for e in events}
    assert counts == {"prefect.flow-run.Pending": "0", "prefect.flow-run.Running": "1"}
