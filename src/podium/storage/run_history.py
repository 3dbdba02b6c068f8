"""Run counts per time interval and state, for `/flow_runs/history` and
`/task_runs/history`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import InvalidRequest
from podium.orchestration.context import StateType
from podium.schemas.flow_runs import HistoryResponse, HistoryResponseState
from podium.storage.filtering import Clause
from podium.storage.run_fields import estimated_run_time, estimated_start_time_delta
from podium.storage.tables.base import utcnow

# More intervals than this are cut off, as in the Prefect API.
MAX_INTERVALS = 500


def interval_count(start: dt.datetime, end: dt.datetime, interval: dt.timedelta) -> int:
    """Return how many intervals cover `start`..`end`, at most MAX_INTERVALS."""
    if interval < dt.timedelta(seconds=1):
        raise InvalidRequest("History interval must not be less than 1 second.")
    elapsed = end - start
    if elapsed <= dt.timedelta(0):
        return 0
    return min(-(-elapsed // interval), MAX_INTERVALS)


async def read_run_history(
    connection: AsyncConnection,
    runs: sa.Table,
    where: Clause,
    start: dt.datetime,
    end: dt.datetime,
    interval: dt.timedelta,
) -> list[HistoryResponse]:
    """Count runs by expected start time interval, state type and state name.

    Each state also carries the summed estimated run time and lateness
    (positive parts only) of its runs, in seconds.
    """
    count = interval_count(start, end, interval)
    if count == 0:
        return []
    query_end = start + count * interval
    query = sa.select(
        runs.c.expected_start_time,
        runs.c.start_time,
        runs.c.state_type,
        runs.c.state_name,
        runs.c.state_timestamp,
        runs.c.total_run_time,
    ).where(
        where,
        runs.c.expected_start_time >= start,
        runs.c.expected_start_time < query_end,
        runs.c.state_type.is_not(None),
    )
    rows = (await connection.execute(query)).mappings().all()

    now = utcnow()
    sums: dict[int, dict[tuple[str, str], list[float]]] = defaultdict(dict)
    for row in rows:
        bucket = int((row["expected_start_time"] - start) // interval)
        totals = sums[bucket].setdefault(
            (row["state_type"], row["state_name"]), [0, 0.0, 0.0]
        )
        totals[0] += 1
        totals[1] += max(0.0, estimated_run_time(row, now))
        totals[2] += max(0.0, estimated_start_time_delta(row, now))

    return [
        HistoryResponse(
            interval_start=start + i * interval,
            interval_end=start + (i + 1) * interval,
            states=[_state_counts(key, totals) for key, totals in sums[i].items()],
        )
        for i in range(count)
    ]


def _state_counts(key: tuple[str, str], totals: list[Any]) -> HistoryResponseState:
    state_type, state_name = key
    return HistoryResponseState(
        state_type=StateType(state_type),
        state_name=state_name,
        count_runs=totals[0],
        sum_estimated_run_time=totals[1],
        sum_estimated_lateness=totals[2],
    )
