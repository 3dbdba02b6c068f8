"""Storage tests for run history intervals and run time estimates."""

import datetime as dt

import pytest

from podium.errors import InvalidRequest
from podium.storage.run_fields import estimated_run_time, estimated_start_time_delta
from podium.storage.run_history import MAX_INTERVALS, interval_count

START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def test_interval_count_rounds_up() -> None:
    assert interval_count(START, START + 2.5 * HOUR, HOUR) == 3


def test_interval_count_empty_range() -> None:
    assert interval_count(START, START, HOUR) == 0


def test_interval_count_is_capped() -> None:
    assert interval_count(START, START + 1000 * HOUR, HOUR) == MAX_INTERVALS


def test_interval_below_one_second_rejected() -> None:
    with pytest.raises(InvalidRequest):
        interval_count(START, START + HOUR, dt.timedelta(milliseconds=500))


def run_row(**fields):
    row = {
        "total_run_time": 2.0,
        "state_type": "COMPLETED",
        "state_timestamp": START,
        "start_time": None,
        "expected_start_time": None,
    }
    return row | fields


def test_estimated_run_time_of_finished_run() -> None:
    assert estimated_run_time(run_row(), START + HOUR) == 2.0


def test_estimated_run_time_of_running_run() -> None:
    row = run_row(state_type="RUNNING")

    assert estimated_run_time(row, START + dt.timedelta(seconds=5)) == 7.0


def test_lateness_of_started_run() -> None:
    row = run_row(start_time=START + dt.timedelta(seconds=3), expected_start_time=START)

    assert estimated_start_time_delta(row, START + HOUR) == 3.0


def test_lateness_of_waiting_run() -> None:
    row = run_row(state_type="SCHEDULED", expected_start_time=START)

    assert estimated_start_time_delta(row, START + dt.timedelta(seconds=4)) == 4.0


def test_lateness_of_finished_unstarted_run() -> None:
    row = run_row(state_type="CANCELLED", expected_start_time=START)

    assert estimated_start_time_delta(row, START + HOUR) == 0.0
