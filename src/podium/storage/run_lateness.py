"""The average lateness of flow runs (`/flow_runs/lateness`)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.storage import dialect
from podium.storage.filtering import Clause
from podium.storage.run_fields import TERMINAL_TYPE_VALUES
from podium.storage.tables import flow_runs


def lateness_column(now: dt.datetime) -> sa.ColumnElement[float]:
    """Build the SQL form of `estimated_start_time_delta`, in seconds.

    A run that started after its expected start is late by the difference. A
    run not yet started and not finished is late by the time since its
    expected start. Every other run counts as 0.
    """
    start = dialect.epoch_seconds(flow_runs.c.start_time)
    expected = dialect.epoch_seconds(flow_runs.c.expected_start_time)
    now_value = sa.literal(now, flow_runs.c.expected_start_time.type)
    return sa.case(
        (flow_runs.c.start_time > flow_runs.c.expected_start_time, start - expected),
        (
            flow_runs.c.start_time.is_(None)
            & flow_runs.c.state_type.not_in(sorted(TERMINAL_TYPE_VALUES))
            & (flow_runs.c.expected_start_time < now_value),
            dialect.epoch_seconds(now_value) - expected,
        ),
        else_=0.0,
    )


async def average_flow_run_lateness(
    connection: AsyncConnection, where: Clause, now: dt.datetime
) -> float | None:
    """Return the mean lateness in seconds of the matching runs (None for no runs)."""
    query = sa.select(sa.func.avg(lateness_column(now))).where(where)
    average = (await connection.execute(query)).scalar()
    return None if average is None else float(average)
