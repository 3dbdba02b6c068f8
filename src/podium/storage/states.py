"""State histories of flow runs and task runs, and the storage side of
orchestration: load a run, let `podium.orchestration` decide a proposed
transition, and persist what it decided.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import ObjectNotFound
from podium.orchestration import (
    RunKind,
    RunSnapshot,
    SetStateStatus,
    StateSnapshot,
    StateType,
    TransitionContext,
    TransitionResult,
    orchestrate,
)
from podium.schemas.states import (
    OrchestrationResult,
    State,
    StateAbortDetails,
    StateAcceptDetails,
    StateCreate,
    StateDetails,
    StateRejectDetails,
    StateWaitDetails,
    default_state_name,
)
from podium.storage.deployment_concurrency import check_deployment_concurrency
from podium.storage.flow_run_events import (
    event_context_columns,
    record_flow_run_state_change,
    with_event_context,
)
from podium.storage.tables import flow_run_states, flow_runs, task_run_states, task_runs
from podium.storage.tables.base import utcnow
from podium.storage.types import as_stored

logger = logging.getLogger(__name__)

STATE_FIELDS = ("id", "type", "name", "timestamp", "message", "state_details", "data")

# Prefix of the current state's columns when a run is read joined to it.
STATE_PREFIX = "state__"


@dataclass(frozen=True)
class RunTables:
    """The tables behind one kind of run."""

    kind: RunKind
    runs: sa.Table
    states: sa.Table
    run_id_key: str
    label: str

    @property
    def state_run_id(self) -> sa.Column[Any]:
        return self.states.c[self.run_id_key]

    # The statements of every transition are built once: building and
    # hashing them again for each call costs more than running them.

    @cached_property
    def load_for_update(self) -> sa.Select[Any]:
        """Select a run (`run_id` parameter) and its state, locking the run row.

        A flow run also gets the names its state-change event needs, so the
        event costs no further read.
        """
        join = self.runs.outerjoin(
            self.states, self.states.c.id == self.runs.c.state_id
        )
        columns: list[Any] = [self.runs, *current_state_columns(self)]
        if self.kind is RunKind.FLOW_RUN:
            join = with_event_context(join)
            columns += event_context_columns()
        query = sa.select(*columns).select_from(join)
        query = query.where(self.runs.c.id == sa.bindparam("run_id"))
        return query.with_for_update(of=self.runs)

    @cached_property
    def insert_state(self) -> sa.Insert:
        return sa.insert(self.states)

    @cached_property
    def update_run(self) -> sa.Update:
        """Update a run (`run_key` parameter); the other parameters name columns."""
        return sa.update(self.runs).where(self.runs.c.id == sa.bindparam("run_key"))


FLOW_RUN_TABLES = RunTables(
    RunKind.FLOW_RUN, flow_runs, flow_run_states, "flow_run_id", "Flow run"
)
TASK_RUN_TABLES = RunTables(
    RunKind.TASK_RUN, task_runs, task_run_states, "task_run_id", "Task run"
)


def current_state_columns(tables: RunTables) -> list[sa.Label[Any]]:
    """Return the state table's columns, labelled for a join on `runs.state_id`."""
    return [tables.states.c[name].label(STATE_PREFIX + name) for name in STATE_FIELDS]


def with_current_state(tables: RunTables, query: sa.Select[Any]) -> sa.Select[Any]:
    """Add the run's current state to a query on the run table, in one join."""
    join = tables.runs.outerjoin(
        tables.states, tables.states.c.id == tables.runs.c.state_id
    )
    return query.add_columns(*current_state_columns(tables)).select_from(join)


def split_current_state(
    row: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Split a joined row into the run's values and its current state's values."""
    run_keys, state_keys = _split_plan(tuple(row.keys()))
    run = {key: row[key] for key in run_keys}
    state = {name: row[key] for name, key in state_keys}
    return run, (state if state.get("id") is not None else None)


@lru_cache(maxsize=128)
def _split_plan(
    keys: tuple[str, ...],
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    # Listings split thousands of rows with the same columns, so which key
    # goes where is worked out once per column list.
    run_keys = tuple(key for key in keys if not key.startswith(STATE_PREFIX))
    state_keys = tuple(
        (key[len(STATE_PREFIX) :], key) for key in keys if key.startswith(STATE_PREFIX)
    )
    return run_keys, state_keys


def _snapshot(values: Mapping[str, Any]) -> StateSnapshot:
    return StateSnapshot(
        id=values["id"],
        type=StateType(values["type"]),
        name=values["name"],
        timestamp=values["timestamp"],
        message=values["message"],
        state_details=dict(values["state_details"] or {}),
        data=values["data"],
    )


def _state_model(snapshot: StateSnapshot) -> State:
    return State.model_validate(
        {
            "id": snapshot.id,
            "type": snapshot.type,
            "name": snapshot.name,
            "timestamp": snapshot.timestamp,
            "message": snapshot.message,
            "data": snapshot.data,
            "state_details": snapshot.state_details,
        }
    )


def proposed_snapshot(
    tables: RunTables,
    run_id: UUID,
    state: StateCreate,
    now: dt.datetime,
    flow_run_id: UUID | None = None,
) -> StateSnapshot:
    """Turn a client's proposed state into a snapshot owned by the given run."""
    details = state.state_details.model_copy()
    if state.type is StateType.SCHEDULED and details.scheduled_time is None:
        details.scheduled_time = now
    if tables.kind is RunKind.FLOW_RUN:
        details.flow_run_id = run_id
    else:
        details.task_run_id = run_id
        details.flow_run_id = flow_run_id
    return StateSnapshot(
        id=uuid.uuid4(),
        type=state.type,
        name=state.name or default_state_name(state.type),
        timestamp=now,
        message=state.message,
        state_details=details.model_dump(mode="json"),
        data=state.data,
    )


def _run_snapshot(tables: RunTables, run: Mapping[str, Any]) -> RunSnapshot:
    fields = {
        "run_count": run["run_count"],
        "empirical_policy": dict(run["empirical_policy"] or {}),
        "start_time": run["start_time"],
        "end_time": run["end_time"],
        "expected_start_time": run["expected_start_time"],
        "next_scheduled_start_time": run["next_scheduled_start_time"],
        "total_run_time": run["total_run_time"],
    }
    if tables.kind is RunKind.FLOW_RUN:
        fields["deployment_id"] = run["deployment_id"]
        fields["infrastructure_pid"] = run["infrastructure_pid"]
        fields["parent_task_run_id"] = run["parent_task_run_id"]
    else:
        fields["flow_run_id"] = run["flow_run_id"]
        fields["flow_run_run_count"] = run["flow_run_run_count"]
    return RunSnapshot(id=run["id"], kind=tables.kind, name=run["name"], **fields)


async def _load_for_update(
    connection: AsyncConnection, tables: RunTables, run_id: UUID
) -> tuple[dict[str, Any], StateSnapshot | None]:
    # PostgreSQL locks the run row until commit, so concurrent transitions of
    # one run are decided one after another. SQLite renders no FOR UPDATE,
    # and its single write transaction already serialises them.
    result = await connection.execute(tables.load_for_update, {"run_id": run_id})
    row = result.mappings().first()
    if row is None:
        raise ObjectNotFound(f"{tables.label} with id {run_id} not found")
    run, state = split_current_state(row)
    return run, (_snapshot(state) if state is not None else None)


async def _with_flow_run(connection: AsyncConnection, run: RunSnapshot) -> RunSnapshot:
    """Add the enclosing flow run's current state and run count to a task run."""
    if run.flow_run_id is None:
        return run
    query = with_current_state(FLOW_RUN_TABLES, sa.select(flow_runs.c.run_count)).where(
        flow_runs.c.id == run.flow_run_id
    )
    row = (await connection.execute(query)).mappings().first()
    if row is None:
        return run
    _, state = split_current_state(row)
    return replace(
        run,
        flow_run_state=_snapshot(state) if state is not None else None,
        flow_run_current_run_count=row["run_count"],
    )


async def write_state(
    connection: AsyncConnection,
    tables: RunTables,
    run_id: UUID,
    state: StateSnapshot,
    run_updates: Mapping[str, Any] | None = None,
) -> None:
    """Insert a state into the run's history and make it the run's current state."""
    await connection.execute(
        tables.insert_state,
        {
            "id": state.id,
            tables.run_id_key: run_id,
            "type": state.type.value,
            "name": state.name,
            "timestamp": state.timestamp,
            "message": state.message,
            "state_details": state.state_details,
            "data": state.data,
        },
    )
    values = dict(run_updates or {})
    values.update(_state_columns(state))
    await _update_run(connection, tables, run_id, values)


def _state_columns(state: StateSnapshot) -> dict[str, Any]:
    """Return the run columns that copy its current state."""
    return {
        "state_id": state.id,
        "state_type": state.type.value,
        "state_name": state.name,
        "state_timestamp": state.timestamp,
    }


async def _update_run(
    connection: AsyncConnection, tables: RunTables, run_id: UUID, values: dict[str, Any]
) -> None:
    parameters = _known_run_columns(tables, values)
    parameters["run_key"] = run_id
    await connection.execute(tables.update_run, parameters)


async def _copy_to_parent_task_run(
    connection: AsyncConnection,
    task_run_id: UUID,
    flow_run_id: UUID,
    state: StateSnapshot,
    now: dt.datetime,
) -> None:
    """Give a subflow run's parent task run a copy of the subflow's new state.

    The copy goes through task run orchestration with `force`, so the task
    run's start and end times follow the subflow's.
    """
    details = StateDetails.model_validate(state.state_details)
    details.child_flow_run_id = flow_run_id
    copy = StateCreate(
        type=state.type,
        name=state.name,
        message=state.message,
        state_details=details,
    )
    try:
        await set_run_state(
            connection, TASK_RUN_TABLES, task_run_id, copy, force=True, now=now
        )
    except ObjectNotFound:
        logger.warning(
            "Flow run %s names parent task run %s, which does not exist.",
            flow_run_id,
            task_run_id,
        )


def _known_run_columns(tables: RunTables, updates: Mapping[str, Any]) -> dict[str, Any]:
    values = {}
    for key, value in updates.items():
        if key in tables.runs.c and key != "id":
            values[key] = value
        else:
            logger.warning(
                "Ignored unknown %s column %r in run updates.", tables.label, key
            )
    return values


def orchestration_result(result: TransitionResult) -> OrchestrationResult:
    """Build the contract's OrchestrationResult from a rule decision."""
    details: (
        StateAcceptDetails | StateWaitDetails | StateRejectDetails | StateAbortDetails
    )
    match result.status:
        case SetStateStatus.ACCEPT:
            details = StateAcceptDetails()
        case SetStateStatus.REJECT:
            details = StateRejectDetails(reason=result.reason)
        case SetStateStatus.WAIT:
            delay = int(result.delay_seconds or 0)
            details = StateWaitDetails(delay_seconds=delay, reason=result.reason)
        case SetStateStatus.ABORT:
            details = StateAbortDetails(reason=result.reason)
    state = _state_model(result.state) if result.state is not None else None
    return OrchestrationResult(state=state, status=result.status, details=details)


@dataclass(frozen=True)
class Transition:
    """The decision of orchestration on one proposed state, and the run after it.

    `run` is the run's row as loaded for the transition (with a flow run's
    event context columns) plus every column the transition wrote, so a
    caller can respond with the run without reading it again. `state` is the
    run's current state afterwards.
    """

    result: TransitionResult
    written: bool
    run: dict[str, Any]
    state: StateSnapshot | None


async def set_run_state(
    connection: AsyncConnection,
    tables: RunTables,
    run_id: UUID,
    state: StateCreate,
    force: bool = False,
    now: dt.datetime | None = None,
) -> tuple[OrchestrationResult, bool]:
    """Propose a new state for a run and persist what orchestration decides.

    Returns the result and whether a new state was written. Raises
    ObjectNotFound when the run does not exist.
    """
    transition = await transition_run(connection, tables, run_id, state, force, now)
    return orchestration_result(transition.result), transition.written


async def transition_run(
    connection: AsyncConnection,
    tables: RunTables,
    run_id: UUID,
    state: StateCreate,
    force: bool = False,
    now: dt.datetime | None = None,
) -> Transition:
    """Like `set_run_state`, returning the decision and the run as written."""
    now = now or utcnow()
    run, initial_state = await _load_for_update(connection, tables, run_id)
    snapshot = _run_snapshot(tables, run)
    if tables.kind is RunKind.TASK_RUN:
        snapshot = await _with_flow_run(connection, snapshot)
    proposed = proposed_snapshot(tables, run_id, state, now, snapshot.flow_run_id)

    context = TransitionContext(
        run=snapshot,
        initial_state=initial_state,
        proposed_state=proposed,
        now=now,
        force=force,
    )
    result = orchestrate(context)
    # Deployment concurrency limits (hook owned by the work-pools module):
    # a flow run taking a slot beyond its deployment's limit is enqueued or
    # cancelled instead. Forced transitions skip it, as they skip all rules.
    if (
        tables.kind is RunKind.FLOW_RUN
        and not force
        and result.status is SetStateStatus.ACCEPT
        and result.state is not None
    ):
        limited = await check_deployment_concurrency(
            connection,
            run_id,
            snapshot.deployment_id,
            initial_state.type if initial_state is not None else None,
            result.state,
            now,
        )
        result = limited or result

    written = result.write_state and result.state is not None
    current = dict(run)
    updates: dict[str, Any] = {}
    if written or result.run_updates:
        # `updated` is set here rather than by the column's default, so that
        # `current` contains the value the row gets.
        updates = {**(result.run_updates or {}), "updated": now}
        # As the columns read them back, so a client's "+05:00" comes out UTC.
        current.update(
            (key, as_stored(value) if isinstance(value, dt.datetime) else value)
            for key, value in updates.items()
        )
    if written:
        assert result.state is not None
        await write_state(connection, tables, run_id, result.state, updates)
        current.update(_state_columns(result.state))
        if tables.kind is RunKind.FLOW_RUN:
            await record_flow_run_state_change(
                connection, run_id, initial_state, result.state, run=current
            )
        if snapshot.parent_task_run_id is not None:
            await _copy_to_parent_task_run(
                connection, snapshot.parent_task_run_id, run_id, result.state, now
            )
        return Transition(result, True, current, result.state)
    if updates:
        await _update_run(connection, tables, run_id, updates)
    return Transition(result, False, current, initial_state)


async def read_states(
    connection: AsyncConnection, tables: RunTables, run_id: UUID
) -> list[State]:
    """Return a run's states, oldest first."""
    query = (
        sa.select(*(tables.states.c[name] for name in STATE_FIELDS))
        .where(tables.state_run_id == run_id)
        .order_by(tables.states.c.timestamp, tables.states.c.created)
    )
    rows = (await connection.execute(query)).mappings().all()
    return [State.model_validate(dict(row)) for row in rows]


async def read_state(
    connection: AsyncConnection, tables: RunTables, state_id: UUID
) -> State:
    query = sa.select(*(tables.states.c[name] for name in STATE_FIELDS)).where(
        tables.states.c.id == state_id
    )
    row = (await connection.execute(query)).mappings().first()
    if row is None:
        raise ObjectNotFound(f"{tables.label} state {state_id} not found.")
    return State.model_validate(dict(row))
