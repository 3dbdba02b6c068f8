"""Queries for logs."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import ObjectNotFound
from podium.schemas.logs import Log, LogCreate, LogFilter, LogFilterFlowRunId, LogSort
from podium.storage.criteria import log_criteria
from podium.storage.filtering import Clause
from podium.storage.tables import flow_runs, logs

# Ties on the timestamp fall back to the id, which grows in insertion order
# (see `_ordered_ids`), so pages never overlap and a batch keeps its order.
SORTS: dict[LogSort, list[Any]] = {
    LogSort.TIMESTAMP_ASC: [logs.c.timestamp.asc(), logs.c.id.asc()],
    LogSort.TIMESTAMP_DESC: [logs.c.timestamp.desc(), logs.c.id.desc()],
}

# Rows per query when `iterate_flow_run_logs` pages through a whole run.
DOWNLOAD_PAGE_SIZE = 1000

_last_id_millis = 0
_last_id_sequence = 0


def _ordered_ids(count: int) -> list[UUID]:
    """Return `count` version 7 UUIDs that sort in the order they were made.

    The 48-bit millisecond clock comes first and a 12-bit sequence second,
    as RFC 9562 describes, so ids made in one process always increase, even
    within one millisecond or when the clock steps back.
    """
    global _last_id_millis, _last_id_sequence
    millis = time.time_ns() // 1_000_000
    if millis > _last_id_millis:
        _last_id_millis, _last_id_sequence = millis, -1
    ids = []
    for _ in range(count):
        _last_id_sequence += 1
        if _last_id_sequence > 0xFFF:
            _last_id_millis, _last_id_sequence = _last_id_millis + 1, 0
        random_bits = int.from_bytes(os.urandom(8)) & (2**62 - 1)
        value = (
            (_last_id_millis << 80)
            | (0x7 << 76)
            | (_last_id_sequence << 64)
            | (0b10 << 62)
            | random_bits
        )
        ids.append(UUID(int=value))
    return ids


def _strip_nul(text: str) -> str:
    # PostgreSQL text cannot contain NUL characters; dropping them on both
    # backends keeps the rest of the record and the same result everywhere.
    return text.replace("\x00", "")


async def create_logs(
    connection: AsyncConnection, batch: Sequence[LogCreate]
) -> list[Log]:
    """Insert a batch of logs with one statement and return them as stored."""
    if not batch:
        return []
    now = dt.datetime.now(dt.UTC)
    created = [
        Log(
            id=log_id,
            created=now,
            updated=now,
            name=_strip_nul(log.name),
            level=log.level,
            message=_strip_nul(log.message),
            timestamp=log.timestamp,
            flow_run_id=log.flow_run_id,
            task_run_id=log.task_run_id,
        )
        for log_id, log in zip(_ordered_ids(len(batch)), batch, strict=True)
    ]
    await connection.execute(sa.insert(logs), [log.model_dump() for log in created])
    return created


async def read_logs(
    connection: AsyncConnection,
    where: Clause,
    sort: LogSort = LogSort.TIMESTAMP_ASC,
    limit: int | None = None,
    offset: int = 0,
) -> list[Log]:
    query = (
        sa.select(logs).where(where).order_by(*SORTS[sort]).limit(limit).offset(offset)
    )
    rows = (await connection.execute(query)).all()
    return [Log.model_validate(row) for row in rows]


async def read_flow_run_name(connection: AsyncConnection, flow_run_id: UUID) -> str:
    query = sa.select(flow_runs.c.name).where(flow_runs.c.id == flow_run_id)
    name = (await connection.execute(query)).scalar_one_or_none()
    if name is None:
        raise ObjectNotFound(f"Flow run {flow_run_id} not found.")
    return str(name)


async def iterate_flow_run_logs(
    connection: AsyncConnection, flow_run_id: UUID
) -> AsyncIterator[list[Log]]:
    """Yield all logs of one flow run, oldest first, a page at a time."""
    where = log_criteria(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    offset = 0
    while True:
        page = await read_logs(
            connection, where, limit=DOWNLOAD_PAGE_SIZE, offset=offset
        )
        if not page:
            return
        yield page
        offset += len(page)


def logs_where(log_filter: LogFilter | None = None) -> Clause:
    return log_criteria(log_filter)
