"""Storage tests for run states and the persistence side of orchestration."""

import datetime as dt
import uuid
from unittest import mock

import pytest
import sqlalchemy as sa

from podium.errors import ObjectNotFound
from podium.orchestration import SetStateStatus, TransitionResult
from podium.schemas.flow_runs import FlowRunCreate
from podium.schemas.flows import FlowCreate
from podium.schemas.states import StateCreate, StateType
from podium.schemas.task_runs import TaskRunCreate
from podium.storage import flow_runs, flows, states, task_runs
from podium.storage.tables import flow_run_states
from podium.storage.tables import flow_runs as flow_runs_table


async def new_flow_run(database, **fields):
    async with database.transaction() as connection:
        flow, _ = await flows.create_flow(connection, FlowCreate(name="storage-flow"))
        run, _ = await flow_runs.create_flow_run(
            connection, FlowRunCreate(flow_id=flow.id, **fields)
        )
    return run


async def propose(
    database, run_id, state_type, force=False, tables=states.FLOW_RUN_TABLES
):
    async with database.transaction() as connection:
        return await states.set_run_state(
            connection, tables, run_id, StateCreate(type=state_type), force
        )


async def test_set_run_state_accept_writes_state(database) -> None:
    run = await new_flow_run(database)

    result, written = await propose(database, run.id, StateType.RUNNING)
    async with database.read() as connection:
        stored = await flow_runs.read_flow_run(connection, run.id)
        history = await states.read_states(connection, states.FLOW_RUN_TABLES, run.id)

    assert written is True
    assert result.status == SetStateStatus.ACCEPT
    assert stored.state_type == StateType.RUNNING
    assert stored.state_id == result.state.id
    assert stored.state.state_details.flow_run_id == run.id
    assert [s.type for s in history] == [StateType.PENDING, StateType.RUNNING]


async def test_set_run_state_abort_writes_nothing(database) -> None:
    run = await new_flow_run(database)

    result, written = await propose(database, run.id, StateType.PENDING)
    async with database.read() as connection:
        count = await connection.scalar(
            sa.select(sa.func.count()).where(flow_run_states.c.flow_run_id == run.id)
        )

    assert written is False
    assert result.status == SetStateStatus.ABORT
    assert result.details.reason
    assert count == 1


async def test_set_run_state_unknown_run_raises(database) -> None:
    with pytest.raises(ObjectNotFound):
        await propose(database, uuid.uuid4(), StateType.RUNNING)


async def test_set_run_state_applies_updates_without_write(database) -> None:
    run = await new_flow_run(database)
    rejected = TransitionResult(
        status=SetStateStatus.REJECT,
        state=None,
        write_state=False,
        reason="kept",
        run_updates={"run_count": 7},
    )

    with mock.patch.object(states, "orchestrate", return_value=rejected):
        result, written = await propose(database, run.id, StateType.RUNNING)
    async with database.read() as connection:
        run_count = await connection.scalar(
            sa.select(flow_runs_table.c.run_count).where(flow_runs_table.c.id == run.id)
        )

    assert written is False
    assert result.details.reason == "kept"
    assert run_count == 7


async def test_set_run_state_wait_reports_whole_seconds(database) -> None:
    run = await new_flow_run(database)
    waiting = TransitionResult(
        status=SetStateStatus.WAIT,
        state=None,
        write_state=False,
        reason="later",
        delay_seconds=30,
    )

    with mock.patch.object(states, "orchestrate", return_value=waiting):
        result, _ = await propose(database, run.id, StateType.RUNNING)

    assert result.details.type == "wait_details"
    assert result.details.delay_seconds == 30


async def test_scheduled_state_gets_scheduled_time(database) -> None:
    run = await new_flow_run(database)

    result, _ = await propose(database, run.id, StateType.SCHEDULED, force=True)

    assert result.state.state_details.scheduled_time is not None


async def test_task_run_context_has_flow_run_state(database) -> None:
    run = await new_flow_run(database)
    await propose(database, run.id, StateType.RUNNING)
    async with database.transaction() as connection:
        task, _ = await task_runs.create_task_run(
            connection, TaskRunCreate(flow_run_id=run.id, task_key="k", dynamic_key="0")
        )
    seen = []

    def capture(context):
        seen.append(context)
        return TransitionResult(
            status=SetStateStatus.ACCEPT, state=context.proposed_state, write_state=True
        )

    with mock.patch.object(states, "orchestrate", side_effect=capture):
        await propose(
            database, task.id, StateType.RUNNING, tables=states.TASK_RUN_TABLES
        )

    assert seen[0].run.flow_run_state.type == StateType.RUNNING
    assert seen[0].proposed_state.state_details["task_run_id"] == str(task.id)


async def test_read_state_unknown_raises(database) -> None:
    async with database.read() as connection:
        with pytest.raises(ObjectNotFound):
            await states.read_state(connection, states.FLOW_RUN_TABLES, uuid.uuid4())


async def test_estimated_run_time_counts_running(database) -> None:
    run = await new_flow_run(database)
    await propose(database, run.id, StateType.RUNNING)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)

    async with database.read() as connection:
        stored = await flow_runs.read_flow_run(connection, run.id, now=later)

    assert stored.estimated_run_time >= 9.9
