"""Queries for events: write with deduplication, filter, count and bucket.

Every write goes through `write_events`, which skips ids already stored and
returns only the new events. Events written on a connection are handed to
the callback registered with `on_events_committed` once the transaction
commits. That is how the live stream receives events that other modules
record inside their own transactions.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import weakref
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import InvalidRequest
from podium.schemas.events import (
    RESOURCE_ID,
    RESOURCE_NAME,
    Countable,
    EventCount,
    EventFilter,
    EventOrder,
    ReceivedEvent,
    TimeUnit,
)
from podium.storage import dialect
from podium.storage.database import Database, after_commit
from podium.storage.event_filters import event_criteria
from podium.storage.tables import event_resources, events

logger = logging.getLogger(__name__)

# Rows per INSERT, well below SQLite's limit of 32766 bound parameters.
INSERT_CHUNK_ROWS = 500

# Time buckets are counted from this Monday, as the Prefect API counts them,
# so bucket numbers stay the same between requests.
BUCKET_ORIGIN = dt.datetime(2024, 4, 1, tzinfo=dt.UTC)
MAX_BUCKETS = 1000

_commit_callbacks: weakref.WeakKeyDictionary[
    sa.Engine, Callable[[list[ReceivedEvent]], None]
]
_commit_callbacks = weakref.WeakKeyDictionary()

T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _event_row(event: ReceivedEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "occurred": event.occurred,
        "event": event.event,
        "resource_id": event.resource_id,
        "resource": event.resource,
        "related": event.related,
        "payload": event.payload,
        "received": event.received,
        "follows": event.follows,
    }


def _resource_rows(event: ReceivedEvent) -> list[dict[str, Any]]:
    primary = {
        "event_id": event.id,
        "resource_role": "",
        "resource_id": event.resource_id,
        "occurred": event.occurred,
        "resource": event.resource,
    }
    related = [
        {
            "event_id": event.id,
            "resource_role": resource["prefect.resource.role"],
            "resource_id": resource[RESOURCE_ID],
            "occurred": event.occurred,
            "resource": resource,
        }
        for resource in event.related
    ]
    return [primary, *related]


# The two INSERTs of `write_events` per backend, built once. They take their
# rows as execute-many parameters, so SQLAlchemy compiles each only once.
_inserts: dict[str, tuple[sa.Insert, sa.Insert]] = {}


def _insert_statements(connection: AsyncConnection) -> tuple[sa.Insert, sa.Insert]:
    name = connection.dialect.name
    if name not in _inserts:
        new_events = (
            dialect.insert(connection, events)
            .on_conflict_do_nothing(index_elements=[events.c.id])
            .returning(events.c.id)
        )
        # One event may list the same resource twice in the same role.
        resources = dialect.insert(connection, event_resources).on_conflict_do_nothing()
        _inserts[name] = (new_events, resources)
    return _inserts[name]


async def write_events(
    connection: AsyncConnection, received: Sequence[ReceivedEvent]
) -> list[ReceivedEvent]:
    """Insert the events whose ids are not stored yet; return those, in order.

    The events reach the live stream after the transaction commits.
    """
    insert_events, insert_resources = _insert_statements(connection)
    unique = list({event.id: event for event in received}.values())
    inserted: set[UUID] = set()
    for chunk in _chunks(unique, INSERT_CHUNK_ROWS):
        rows = [_event_row(event) for event in chunk]
        inserted.update((await connection.execute(insert_events, rows)).scalars())
    new_events = [event for event in unique if event.id in inserted]

    resource_rows = [row for event in new_events for row in _resource_rows(event)]
    for chunk in _chunks(resource_rows, INSERT_CHUNK_ROWS):
        await connection.execute(insert_resources, list(chunk))
    _hold_until_commit(connection, new_events)
    return new_events


async def record_event(connection: AsyncConnection, event: ReceivedEvent) -> bool:
    """Store one server-made event inside the caller's transaction.

    Returns False when an event with the same id is already stored.
    """
    return bool(await write_events(connection, [event]))


# Per write engine: where server-made events go once their transaction has
# committed, instead of being written inside it (see `record_event_soon`).
_event_sinks: dict[sa.Engine, Callable[[list[ReceivedEvent]], object]] = {}


def send_events_after_commit(
    database: Database, sink: Callable[[list[ReceivedEvent]], object] | None
) -> None:
    """Hand the events of `record_event_soon` to `sink` after each commit.

    With None, they are written inside their transactions again.
    """
    engine = database.sync_write_engine
    if sink is None:
        _event_sinks.pop(engine, None)
    else:
        _event_sinks[engine] = sink


async def record_event_soon(connection: AsyncConnection, event: ReceivedEvent) -> None:
    """Store a server-made event after the caller's transaction commits.

    With a sink registered (an API process's event pipeline), the event is
    handed to it once the transaction commits, so the transaction spends no
    statements on it and the pipeline writes many events in one batch.
    Without one, or outside `Database.transaction`, it is written in the
    caller's transaction like `record_event`.
    """
    sink = _event_sinks.get(connection.sync_engine)
    if sink is not None and after_commit(connection, partial(sink, [event])):
        return
    await record_event(connection, event)


def on_events_committed(
    database: Database, callback: Callable[[list[ReceivedEvent]], None]
) -> None:
    """Call `callback` with the events of each committed write transaction.

    The callback runs on the event loop once the commit is done, so it must
    not block or raise.
    """
    _commit_callbacks[database.sync_write_engine] = callback


def _hold_until_commit(
    connection: AsyncConnection, new_events: list[ReceivedEvent]
) -> None:
    target = _commit_callbacks.get(connection.sync_engine)
    if not new_events or target is None:
        return
    # Looked up again at commit, so a callback replaced meanwhile gets them.
    engine = connection.sync_engine
    if not after_commit(connection, partial(_publish, engine, new_events)):
        # Not a `Database.transaction`: there is no commit to wait for here.
        logger.warning(
            "%d events were written outside Database.transaction, so they "
            "do not reach the live stream.",
            len(new_events),
        )


def _publish(engine: sa.Engine, new_events: list[ReceivedEvent]) -> None:
    target = _commit_callbacks.get(engine)
    if target is not None:
        target(new_events)


def _as_event(row: sa.Row[Any]) -> ReceivedEvent:
    return ReceivedEvent.model_validate(row._mapping)


def _select_events(event_filter: EventFilter) -> sa.Select[Any]:
    direction = sa.desc if event_filter.order == EventOrder.DESC else sa.asc
    where = event_criteria(event_filter)
    resource = event_filter.resource
    if resource is None or not resource.distinct:
        return (
            sa.select(events)
            .where(where)
            .order_by(direction(events.c.occurred), direction(events.c.id))
        )

    # One event per resource: the latest (or, for ASC, the earliest) one.
    rank = sa.func.row_number().over(
        partition_by=events.c.resource_id,
        order_by=(direction(events.c.occurred), direction(events.c.id)),
    )
    ranked = sa.select(events, rank.label("rank")).where(where).subquery()
    columns = [ranked.c[column.name] for column in events.columns]
    return (
        sa.select(*columns)
        .where(ranked.c.rank == 1)
        .order_by(direction(ranked.c.occurred), direction(ranked.c.id))
    )


async def read_events(
    connection: AsyncConnection,
    event_filter: EventFilter,
    limit: int | None = None,
    offset: int = 0,
) -> list[ReceivedEvent]:
    query = _select_events(event_filter).limit(limit).offset(offset)
    rows = (await connection.execute(query)).all()
    return [_as_event(row) for row in rows]


async def count_events(connection: AsyncConnection, event_filter: EventFilter) -> int:
    resource = event_filter.resource
    counted = (
        sa.func.count(sa.distinct(events.c.resource_id))
        if resource is not None and resource.distinct
        else sa.func.count()
    )
    query = sa.select(counted).select_from(events).where(event_criteria(event_filter))
    return int((await connection.execute(query)).scalar_one())


async def count_events_by(
    connection: AsyncConnection,
    event_filter: EventFilter,
    countable: Countable,
    time_unit: TimeUnit = TimeUnit.day,
    time_interval: float = 1.0,
) -> list[EventCount]:
    """Count matching events per time bucket, event name or resource."""
    if countable == Countable.day:
        return await _count_by_time(connection, event_filter, TimeUnit.day, 1.0)
    if countable == Countable.time:
        return await _count_by_time(connection, event_filter, time_unit, time_interval)
    if countable == Countable.event:
        return await _count_by_value(
            connection, event_filter, events.c.event, events.c.event
        )
    label = sa.func.coalesce(
        events.c.resource[RESOURCE_NAME].as_string(),
        events.c.resource["prefect.name"].as_string(),
        events.c.resource_id,
    )
    return await _count_by_value(connection, event_filter, events.c.resource_id, label)


async def _count_by_value(
    connection: AsyncConnection,
    event_filter: EventFilter,
    value: sa.ColumnElement[Any],
    label: sa.ColumnElement[Any],
) -> list[EventCount]:
    # Group by value and label, then keep each value's most recent label, so a
    # resource that was renamed is counted once under its current name.
    query = (
        sa.select(
            value.label("value"),
            label.label("label"),
            sa.func.count().label("count"),
            sa.func.min(events.c.occurred).label("start_time"),
            sa.func.max(events.c.occurred).label("end_time"),
        )
        .where(event_criteria(event_filter))
        .group_by(value, label)
    )
    merged: dict[str, EventCount] = {}
    for row in (await connection.execute(query)).all():
        count = merged.get(row.value)
        if count is None:
            merged[row.value] = EventCount.model_validate(row._mapping)
            continue
        if row.end_time > count.end_time:
            count.label = row.label
        count.count += row._mapping["count"]
        count.start_time = min(count.start_time, row.start_time)
        count.end_time = max(count.end_time, row.end_time)
    return sorted(merged.values(), key=lambda c: (-c.count, c.label))


async def _count_by_time(
    connection: AsyncConnection,
    event_filter: EventFilter,
    time_unit: TimeUnit,
    time_interval: float,
) -> list[EventCount]:
    spans = _bucket_spans(event_filter, time_unit, time_interval)
    width = time_unit.as_timedelta(time_interval).total_seconds()
    origin = BUCKET_ORIGIN.timestamp()
    bucket = sa.func.floor((dialect.epoch_seconds(events.c.occurred) - origin) / width)
    query = (
        sa.select(bucket.label("bucket"), sa.func.count().label("count"))
        .where(event_criteria(event_filter))
        .group_by(bucket)
    )
    counts = {
        int(row.bucket): int(row._mapping["count"])
        for row in (await connection.execute(query)).all()
    }
    return [
        EventCount(
            value=str(index),
            label=start.isoformat(),
            count=counts.get(index, 0),
            start_time=start,
            end_time=end,
        )
        for index, start, end in spans
    ]


def _bucket_spans(
    event_filter: EventFilter, time_unit: TimeUnit, time_interval: float
) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """Return (bucket number, start, inclusive end) for each bucket of the window."""
    width = time_unit.as_timedelta(time_interval)
    since = event_filter.occurred.since.astimezone(dt.UTC)
    until = event_filter.occurred.until.astimezone(dt.UTC)
    buckets = math.ceil((until - since) / width)
    if buckets > MAX_BUCKETS:
        raise InvalidRequest(
            f"The time_unit and time_interval give {buckets} buckets for the "
            f"occurred window; at most {MAX_BUCKETS} are allowed. Widen the "
            "interval or narrow the window."
        )
    # A window that reaches into the future ends with the current bucket.
    until = min(until, dt.datetime.now(dt.UTC))
    first = math.floor((since - BUCKET_ORIGIN) / width)
    spans = []
    index = first
    start = BUCKET_ORIGIN + width * index
    while start <= until:
        end = start + width
        spans.append((index, start, end - dt.timedelta(microseconds=1)))
        index += 1
        start = end
    return spans
