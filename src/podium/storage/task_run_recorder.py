"""Build task runs and their state histories from client-side state events.

Prefect 3 clients orchestrate task runs themselves and report each state
only as a `prefect.task-run.<State>` event with the resource label
`prefect.orchestration: client`. The event id becomes the state id, its
`occurred` time the state timestamp, `payload.validated_state` the state and
`payload.task_run` the task run's fields at that moment. The flow run is the
related resource in the `flow-run` role.

Events may arrive twice or out of order. A state row is written once per
event id, and the task run row follows only the latest state. The latest
state has the latest timestamp. Among states with equal timestamps, it is
the one that no other state `follows`, and after that the one with the
highest event id, because clients use time-ordered UUIDv7 ids.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pydantic
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.schemas.events import RESOURCE_ID, ReceivedEvent
from podium.schemas.states import StateDetails
from podium.storage import dialect
from podium.storage.tables import events, flow_runs, task_run_states, task_runs

logger = logging.getLogger(__name__)

TASK_RUN_EVENT_PREFIX = "prefect.task-run."
TASK_RUN_RESOURCE_PREFIX = "prefect.task-run."
FLOW_RUN_RESOURCE_PREFIX = "prefect.flow-run."

# Task run columns taken from `payload.task_run`, with the value a column
# gets when the client leaves the field out (it omits fields that are None).
_FIELD_DEFAULTS: dict[str, Any] = {
    "name": None,
    "task_key": None,
    "dynamic_key": None,
    "cache_key": None,
    "cache_expiration": None,
    "task_version": None,
    "empirical_policy": {},
    "task_inputs": {},
    "tags": [],
    "labels": None,
    "run_count": 0,
    "flow_run_run_count": 0,
    "expected_start_time": None,
    "next_scheduled_start_time": None,
    "start_time": None,
    "end_time": None,
    "total_run_time": 0.0,
}
_TIME_FIELDS = frozenset(
    {
        "cache_expiration",
        "expected_start_time",
        "next_scheduled_start_time",
        "start_time",
        "end_time",
    }
)
_REQUIRED_FIELDS = ("name", "task_key", "dynamic_key")
_datetime = pydantic.TypeAdapter(dt.datetime)


@dataclass
class _StateEvent:
    """One task-run state event, parsed into the rows it produces."""

    event_id: UUID
    follows: UUID | None
    timestamp: dt.datetime
    task_run_id: UUID
    flow_run_id: UUID | None
    fields: dict[str, Any]
    state: dict[str, Any]


@dataclass(frozen=True)
class _StateMark:
    """The id, timestamp and `follows` link by which states are ordered."""

    id: UUID
    timestamp: dt.datetime
    follows: UUID | None


def is_client_task_run_event(event: ReceivedEvent) -> bool:
    return (
        event.event.startswith(TASK_RUN_EVENT_PREFIX)
        and event.resource.get("prefect.orchestration") == "client"
    )


def _prefixed_uuid(value: str | None, prefix: str) -> UUID | None:
    if not value or not value.startswith(prefix):
        return None
    try:
        return UUID(value.removeprefix(prefix))
    except ValueError:
        return None


def _task_run_fields(task_run: dict[str, Any]) -> dict[str, Any]:
    fields = {}
    for name, default in _FIELD_DEFAULTS.items():
        value = task_run.get(name, default)
        if name in _TIME_FIELDS and value is not None:
            value = _datetime.validate_python(value)
        fields[name] = value
    return fields


def _state_details(
    details: Any, task_run_id: UUID, flow_run_id: UUID | None
) -> dict[str, Any]:
    parsed = StateDetails.model_validate(details or {})
    parsed.task_run_id = task_run_id
    parsed.flow_run_id = flow_run_id
    return parsed.model_dump(mode="json")


def parse_state_event(event: ReceivedEvent) -> _StateEvent | None:
    """Return the parsed event, or None (with a warning) when it is unusable."""
    task_run_id = _prefixed_uuid(event.resource_id, TASK_RUN_RESOURCE_PREFIX)
    flow_run = event.related_in_role("flow-run")
    flow_run_id = _prefixed_uuid(
        flow_run[RESOURCE_ID] if flow_run else None, FLOW_RUN_RESOURCE_PREFIX
    )
    validated = event.payload.get("validated_state")
    task_run = event.payload.get("task_run")
    try:
        if task_run_id is None or not isinstance(validated, dict):
            raise ValueError("no task run id or no validated_state")
        if not isinstance(task_run, dict) or any(
            not task_run.get(f) for f in _REQUIRED_FIELDS
        ):
            raise ValueError("payload.task_run lacks name, task_key or dynamic_key")
        fields = _task_run_fields(task_run)
        state = {
            "id": event.id,
            "task_run_id": task_run_id,
            "type": str(validated["type"]),
            "name": validated.get("name") or str(validated["type"]).capitalize(),
            "timestamp": event.occurred,
            "message": validated.get("message"),
            "state_details": _state_details(
                validated.get("state_details"), task_run_id, flow_run_id
            ),
            "data": validated.get("data"),
        }
    except (KeyError, ValueError, pydantic.ValidationError) as error:
        logger.warning(
            "Task run event %s (%s) was stored but not recorded as a state: %s",
            event.id,
            event.event,
            error,
        )
        return None
    return _StateEvent(
        event_id=event.id,
        follows=event.follows,
        timestamp=event.occurred,
        task_run_id=task_run_id,
        flow_run_id=flow_run_id,
        fields=fields,
        state=state,
    )


def latest_state(marks: Iterable[_StateMark]) -> _StateMark:
    """Return the last state of a task run's chain (see the module docstring)."""
    unique = {mark.id: mark for mark in marks}.values()
    newest = max(mark.timestamp for mark in unique)
    tied = [mark for mark in unique if mark.timestamp == newest]
    followed = {mark.follows for mark in tied}
    heads = [mark for mark in tied if mark.id not in followed] or tied
    return max(heads, key=lambda mark: mark.id)


async def record_task_run_events(
    connection: AsyncConnection, received: Sequence[ReceivedEvent]
) -> int:
    """Upsert task runs and insert their states; return the states written.

    Pass only events that `write_events` has just stored, so that a re-sent
    event never produces a second state row.
    """
    parsed = [
        p
        for e in received
        if is_client_task_run_event(e)
        if (p := parse_state_event(e))
    ]
    if not parsed:
        return 0
    parsed = await _drop_unknown_flow_runs(connection, parsed)
    await _use_existing_ids(connection, parsed)

    by_run: dict[UUID, list[_StateEvent]] = {}
    for state_event in parsed:
        by_run.setdefault(state_event.task_run_id, []).append(state_event)
    current = await _current_states(connection, list(by_run))

    now = dt.datetime.now(dt.UTC)
    inserts, updates = [], []
    for task_run_id, run_events in by_run.items():
        marks = [_StateMark(e.event_id, e.timestamp, e.follows) for e in run_events]
        existing = current.get(task_run_id)
        if existing is not None:
            marks.append(existing)
            if any(
                m.timestamp == existing.timestamp for m in marks if m is not existing
            ):
                # A tie with the stored state: `follows` may link the new state
                # to it only through other stored states of the same time.
                marks += await _stored_states_at(
                    connection, task_run_id, existing.timestamp
                )
        latest = latest_state(marks)
        if existing is not None and latest.id == existing.id:
            continue
        winner = next(e for e in run_events if e.event_id == latest.id)
        values = _task_run_values(winner, now)
        if task_run_id in current:
            updates.append(values)
        else:
            inserts.append({**values, "id": task_run_id, "created": now})

    if inserts:
        await connection.execute(sa.insert(task_runs), inserts)
    if updates:
        await connection.execute(_update_task_run(), [_as_update(v) for v in updates])

    states = [
        {**e.state, "task_run_id": e.task_run_id, "created": now, "updated": now}
        for e in parsed
    ]
    for start in range(0, len(states), 500):
        await connection.execute(
            dialect.insert(connection, task_run_states)
            .values(states[start : start + 500])
            .on_conflict_do_nothing(index_elements=[task_run_states.c.id])
        )
    return len(states)


def _task_run_values(state_event: _StateEvent, now: dt.datetime) -> dict[str, Any]:
    state = state_event.state
    return {
        **state_event.fields,
        "id": state_event.task_run_id,
        "flow_run_id": state_event.flow_run_id,
        "state_id": state["id"],
        "state_type": state["type"],
        "state_name": state["name"],
        "state_timestamp": state["timestamp"],
        "updated": now,
    }


def _update_task_run() -> sa.Update:
    columns = [*_FIELD_DEFAULTS, "flow_run_id", "state_id", "state_type", "state_name"]
    columns += ["state_timestamp", "updated"]
    return (
        sa.update(task_runs)
        .where(task_runs.c.id == sa.bindparam("target_id"))
        .values({column: sa.bindparam(column) for column in columns})
    )


def _as_update(values: dict[str, Any]) -> dict[str, Any]:
    # The bind parameter for the WHERE clause cannot share a column's name.
    return {**{k: v for k, v in values.items() if k != "id"}, "target_id": values["id"]}


async def _drop_unknown_flow_runs(
    connection: AsyncConnection, parsed: list[_StateEvent]
) -> list[_StateEvent]:
    wanted = {e.flow_run_id for e in parsed if e.flow_run_id is not None}
    if not wanted:
        return parsed
    query = sa.select(flow_runs.c.id).where(flow_runs.c.id.in_(wanted))
    known = set((await connection.execute(query)).scalars())
    kept = [e for e in parsed if e.flow_run_id is None or e.flow_run_id in known]
    for dropped in {e.flow_run_id for e in parsed} - known - {None}:
        logger.warning(
            "Task run events for flow run %s were stored, but no task runs were "
            "recorded because that flow run does not exist.",
            dropped,
        )
    return kept


async def _use_existing_ids(
    connection: AsyncConnection, parsed: list[_StateEvent]
) -> None:
    """Point events at the stored task run with the same flow run and keys.

    A flow run contains one task run per (task_key, dynamic_key). When a client
    reports it under another id, the stored id wins, so the row is updated
    instead of the insert failing on the unique constraint.
    """
    natural: dict[tuple[UUID, str, str], UUID] = {}
    for e in parsed:
        if e.flow_run_id is not None:
            key = (e.flow_run_id, e.fields["task_key"], e.fields["dynamic_key"])
            natural.setdefault(key, e.task_run_id)
    if not natural:
        return
    key_columns = sa.tuple_(
        task_runs.c.flow_run_id, task_runs.c.task_key, task_runs.c.dynamic_key
    )
    query = sa.select(
        task_runs.c.id,
        task_runs.c.flow_run_id,
        task_runs.c.task_key,
        task_runs.c.dynamic_key,
    ).where(
        key_columns.in_(list(natural)), task_runs.c.id.not_in(set(natural.values()))
    )
    for row in (await connection.execute(query)).all():
        natural[(row.flow_run_id, row.task_key, row.dynamic_key)] = row.id
    for e in parsed:
        if e.flow_run_id is not None:
            stored = natural[
                (e.flow_run_id, e.fields["task_key"], e.fields["dynamic_key"])
            ]
            e.task_run_id = stored
            e.state["state_details"]["task_run_id"] = str(stored)


async def _stored_states_at(
    connection: AsyncConnection, task_run_id: UUID, timestamp: dt.datetime
) -> list[_StateMark]:
    query = (
        sa.select(task_run_states.c.id, task_run_states.c.timestamp, events.c.follows)
        .outerjoin(events, events.c.id == task_run_states.c.id)
        .where(
            task_run_states.c.task_run_id == task_run_id,
            task_run_states.c.timestamp == timestamp,
        )
    )
    rows = (await connection.execute(query)).all()
    return [_StateMark(row.id, row.timestamp, row.follows) for row in rows]


async def _current_states(
    connection: AsyncConnection, task_run_ids: list[UUID]
) -> dict[UUID, _StateMark | None]:
    """Map each stored task run to its current state (None if it has none)."""
    query = (
        sa.select(
            task_runs.c.id,
            task_runs.c.state_id,
            task_runs.c.state_timestamp,
            events.c.follows,
        )
        .outerjoin(events, events.c.id == task_runs.c.state_id)
        .where(task_runs.c.id.in_(task_run_ids))
    )
    current: dict[UUID, _StateMark | None] = {}
    for row in (await connection.execute(query)).all():
        has_state = row.state_id is not None and row.state_timestamp is not None
        current[row.id] = (
            _StateMark(row.state_id, row.state_timestamp, row.follows)
            if has_state
            else None
        )
    return current
