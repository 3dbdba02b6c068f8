"""Fields that flow runs and task runs compute the same way: estimated run
time and lateness, sort orders and the state join used when reading runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from podium.orchestration.context import TERMINAL_STATE_TYPES, StateType
from podium.storage import dialect
from podium.storage.states import RunTables, current_state_columns, split_current_state

TERMINAL_TYPE_VALUES = frozenset(
    state_type.value for state_type in TERMINAL_STATE_TYPES
)


def ascending(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """Sort ascending with NULLs first on both backends, as SQLite does by default."""
    return column.asc().nulls_first()


def descending(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """Sort descending with NULLs last on both backends, as SQLite does by default."""
    return column.desc().nulls_last()


def estimated_run_time(run: Mapping[Any, Any], now: dt.datetime) -> float:
    """Return the run time in seconds, counting a RUNNING run up to `now`."""
    total = float(run["total_run_time"] or 0.0)
    if (
        run["state_type"] == StateType.RUNNING.value
        and run["state_timestamp"] is not None
    ):
        total += (now - run["state_timestamp"]).total_seconds()
    return total


def estimated_start_time_delta(run: Mapping[Any, Any], now: dt.datetime) -> float:
    """Return how late the run started, or is, against its expected start time.

    A run not yet started and not finished counts as late by the time since
    its expected start.
    """
    start = run["start_time"]
    expected = run["expected_start_time"]
    if start is not None and expected is not None and start > expected:
        return (start - expected).total_seconds()
    if (
        start is None
        and expected is not None
        and expected < now
        and run["state_type"] not in TERMINAL_TYPE_VALUES
    ):
        return (now - expected).total_seconds()
    return 0.0


def estimated_run_time_column(
    runs: sa.Table, now: dt.datetime
) -> sa.ColumnElement[float]:
    """Build the SQL form of `estimated_run_time`, for sorting by duration."""
    running_for = dialect.epoch_seconds(
        sa.literal(now, runs.c.state_timestamp.type)
    ) - (dialect.epoch_seconds(runs.c.state_timestamp))
    return sa.case(
        (
            runs.c.state_type == StateType.RUNNING.value,
            runs.c.total_run_time + running_for,
        ),
        else_=runs.c.total_run_time,
    )


def run_values(row: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Turn a run row joined to its current state into a response dict."""
    run, state = split_current_state(row)
    run["estimated_run_time"] = estimated_run_time(run, now)
    run["estimated_start_time_delta"] = estimated_start_time_delta(run, now)
    run["state"] = state
    del run["state_timestamp"]
    return run


def select_runs(tables: RunTables, page: sa.Subquery | None = None) -> sa.Select[Any]:
    """Select every run column and the current state, in one join.

    With `page` (a subquery of run ids), only those runs are read.
    """
    runs: sa.FromClause = tables.runs
    if page is not None:
        runs = tables.runs.join(page, page.c.id == tables.runs.c.id)
    join = runs.outerjoin(tables.states, tables.states.c.id == tables.runs.c.state_id)
    return sa.select(tables.runs, *current_state_columns(tables)).select_from(join)
