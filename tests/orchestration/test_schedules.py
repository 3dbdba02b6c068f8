"""Schedule arithmetic with fixed clocks, including both DST transitions.

Europe/London goes back from 02:00 BST to 01:00 GMT on 2024-10-27, so
01:00-01:59 happens twice. America/New_York goes forward from 02:00 EST to
03:00 EDT on 2024-03-10, so 02:00-02:59 does not happen.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest

from podium.orchestration import schedules
from podium.orchestration.schedules import (
    RRULE_DEFAULT_ANCHOR,
    FillLimits,
    InvalidSchedule,
    cron_occurrences,
    interval_occurrences,
    plan_fill,
    rrule_occurrences,
    validate_cron,
    zone,
)

UTC = dt.UTC
LONDON = "Europe/London"
NEW_YORK = "America/New_York"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def take(instants: Iterator[dt.datetime], n: int) -> list[dt.datetime]:
    return list(itertools.islice(instants, n))


def local(instants: list[dt.datetime], name: str) -> list[str]:
    return [i.astimezone(zone(name)).strftime("%H:%M%z") for i in instants]


# Cron ----------------------------------------------------------------------


def test_cron_starts_at_start_inclusive() -> None:
    times = take(cron_occurrences("0 * * * *", None, True, utc(2024, 1, 1, 10)), 2)
    assert times == [utc(2024, 1, 1, 10), utc(2024, 1, 1, 11)]


def test_cron_uses_timezone() -> None:
    times = take(cron_occurrences("0 9 * * *", NEW_YORK, True, utc(2024, 1, 1)), 1)
    assert times == [utc(2024, 1, 1, 14)]


def test_cron_london_fall_back_repeated_hour_runs_once() -> None:
    start = utc(2024, 10, 26, 23)  # 00:00 BST
    times = take(cron_occurrences("30 * * * *", LONDON, True, start), 4)
    assert local(times, LONDON) == [
        "00:30+0100",
        "01:30+0100",
        "02:30+0000",
        "03:30+0000",
    ]


def test_cron_london_fall_back_daily_time_in_repeated_hour() -> None:
    start = utc(2024, 10, 26)
    times = take(cron_occurrences("30 1 * * *", LONDON, True, start), 3)
    assert times == [
        utc(2024, 10, 26, 0, 30),
        utc(2024, 10, 27, 0, 30),
        utc(2024, 10, 28, 1, 30),
    ]


def test_cron_new_york_spring_forward_skipped_time_runs_after_gap() -> None:
    start = utc(2024, 3, 9)
    times = take(cron_occurrences("30 2 * * *", NEW_YORK, True, start), 3)
    assert local(times, NEW_YORK) == ["02:30-0500", "03:30-0400", "02:30-0400"]


def test_cron_new_york_spring_forward_hourly_has_no_duplicate() -> None:
    start = utc(2024, 3, 10, 5)  # 00:00 EST
    times = take(cron_occurrences("30 * * * *", NEW_YORK, True, start), 4)
    assert local(times, NEW_YORK) == [
        "00:30-0500",
        "01:30-0500",
        "03:30-0400",
        "04:30-0400",
    ]


def test_cron_day_or_false_needs_both_fields() -> None:
    # The 13th that is a Friday, not every 13th and every Friday.
    times = take(cron_occurrences("0 0 13 * 5", None, False, utc(2024, 1, 1)), 2)
    assert times == [utc(2024, 9, 13), utc(2024, 12, 13)]


@pytest.mark.parametrize("text", ["nope", "* * * *", "61 * * * *", "* * * * * * *"])
def test_validate_cron_rejects_invalid(text: str) -> None:
    with pytest.raises(InvalidSchedule):
        validate_cron(text)


# Interval ------------------------------------------------------------------


def test_interval_aligns_to_anchor() -> None:
    anchor = utc(2024, 1, 1, 0, 7)
    times = take(
        interval_occurrences(dt.timedelta(minutes=15), anchor, None, utc(2024, 6, 1)), 2
    )
    assert times == [utc(2024, 6, 1, 0, 7), utc(2024, 6, 1, 0, 22)]


def test_interval_includes_anchor_before_start() -> None:
    anchor = utc(2024, 1, 1)
    times = take(interval_occurrences(dt.timedelta(hours=1), anchor, None, anchor), 1)
    assert times == [anchor]


def test_interval_anchor_after_start_goes_backwards() -> None:
    anchor = utc(2024, 1, 2)
    times = take(
        interval_occurrences(dt.timedelta(hours=12), anchor, None, utc(2024, 1, 1)), 3
    )
    assert times == [utc(2024, 1, 1), utc(2024, 1, 1, 12), utc(2024, 1, 2)]


def test_interval_hourly_london_fall_back_is_elapsed_time() -> None:
    anchor = utc(2024, 1, 1)
    times = take(
        interval_occurrences(dt.timedelta(hours=1), anchor, LONDON, utc(2024, 10, 27)),
        4,
    )
    assert times == [utc(2024, 10, 27, h) for h in range(4)]
    assert local(times, LONDON) == [
        "01:00+0100",
        "01:00+0000",
        "02:00+0000",
        "03:00+0000",
    ]


def test_interval_daily_london_fall_back_keeps_wall_clock() -> None:
    anchor = dt.datetime(2024, 10, 1, 1, 30)  # naive: local time
    times = take(
        interval_occurrences(dt.timedelta(days=1), anchor, LONDON, utc(2024, 10, 26)), 3
    )
    assert local(times, LONDON) == ["01:30+0100", "01:30+0100", "01:30+0000"]


def test_interval_daily_new_york_spring_forward_skipped_time() -> None:
    anchor = dt.datetime(2024, 3, 1, 2, 30)
    start = utc(2024, 3, 9)
    times = take(interval_occurrences(dt.timedelta(days=1), anchor, NEW_YORK, start), 3)
    assert local(times, NEW_YORK) == ["02:30-0500", "03:30-0400", "02:30-0400"]


def test_interval_hourly_new_york_spring_forward_is_elapsed_time() -> None:
    anchor = utc(2024, 1, 1, 0, 30)
    start = utc(2024, 3, 10, 5)
    times = take(
        interval_occurrences(dt.timedelta(hours=1), anchor, NEW_YORK, start), 3
    )
    assert local(times, NEW_YORK) == ["00:30-0500", "01:30-0500", "03:30-0400"]


def test_interval_rejects_zero() -> None:
    with pytest.raises(InvalidSchedule):
        next(
            interval_occurrences(
                dt.timedelta(0), utc(2024, 1, 1), None, utc(2024, 1, 1)
            )
        )


# RRule ---------------------------------------------------------------------


def test_rrule_without_dtstart_uses_fixed_anchor() -> None:
    first = take(rrule_occurrences("FREQ=HOURLY;INTERVAL=5", None, utc(2024, 1, 1)), 1)
    second = take(rrule_occurrences("FREQ=HOURLY;INTERVAL=5", None, utc(2024, 1, 1)), 1)
    hours = (first[0] - RRULE_DEFAULT_ANCHOR.replace(tzinfo=UTC)).total_seconds() / 3600
    assert first == second
    assert hours % 5 == 0


def test_rrule_uses_timezone_for_byhour() -> None:
    times = take(rrule_occurrences("FREQ=DAILY;BYHOUR=9", NEW_YORK, utc(2024, 1, 1)), 1)
    assert times == [utc(2024, 1, 1, 14)]


def test_rrule_dtstart_and_count() -> None:
    text = "DTSTART:20240101T090000\nRRULE:FREQ=WEEKLY;COUNT=2"
    times = list(rrule_occurrences(text, None, utc(2023, 1, 1)))
    assert times == [utc(2024, 1, 1, 9), utc(2024, 1, 8, 9)]


def test_rrule_tzid_overrides_timezone() -> None:
    text = "DTSTART;TZID=Europe/London:20240701T090000\nRRULE:FREQ=DAILY;COUNT=1"
    assert list(rrule_occurrences(text, NEW_YORK, utc(2024, 1, 1))) == [
        utc(2024, 7, 1, 8)
    ]


def test_rrule_new_york_spring_forward_skipped_time() -> None:
    times = take(
        rrule_occurrences("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", NEW_YORK, utc(2024, 3, 9)),
        2,
    )
    assert local(times, NEW_YORK) == ["02:30-0500", "03:30-0400"]


def test_rrule_london_fall_back_repeated_time_runs_once() -> None:
    rule = "FREQ=MINUTELY;INTERVAL=30;BYHOUR=1"
    times = take(rrule_occurrences(rule, LONDON, utc(2024, 10, 26, 23)), 3)
    assert local(times, LONDON) == ["01:00+0100", "01:30+0100", "01:00+0000"]
    assert times[2] == utc(2024, 10, 28, 1)


# Filling -------------------------------------------------------------------


def every_minute(start: dt.datetime) -> Iterator[dt.datetime]:
    return cron_occurrences("* * * * *", None, True, start)


def daily(start: dt.datetime) -> Iterator[dt.datetime]:
    return cron_occurrences("0 9 * * *", None, True, start)


WEEK = FillLimits(horizon=dt.timedelta(days=7), min_runs=3, max_runs=100)


def test_plan_fill_caps_at_max_runs() -> None:
    plan = plan_fill(every_minute, utc(2024, 1, 1, 10, 0, 30), None, WEEK)
    assert len(plan.new_times) == 100
    assert plan.scheduled_until == utc(2024, 1, 1, 11, 40)


def test_plan_fill_capped_refills_at_min_runs() -> None:
    plan = plan_fill(every_minute, utc(2024, 1, 1, 10, 0, 30), None, WEEK)
    assert plan.next_fill == plan.new_times[-3]


def test_plan_fill_stops_at_horizon() -> None:
    plan = plan_fill(daily, utc(2024, 1, 1, 10), None, WEEK)
    assert plan.new_times == [utc(2024, 1, d, 9) for d in range(2, 9)]


def test_plan_fill_refills_when_horizon_reaches_next() -> None:
    plan = plan_fill(daily, utc(2024, 1, 1, 10), None, WEEK)
    assert plan.next_fill == utc(2024, 1, 2, 9)


def test_plan_fill_skips_covered_times() -> None:
    first = plan_fill(daily, utc(2024, 1, 1, 10), None, WEEK)
    assert first.next_fill is not None
    second = plan_fill(daily, first.next_fill, first.scheduled_until, WEEK)
    assert second.new_times == [utc(2024, 1, 9, 9)]


def test_plan_fill_min_runs_past_horizon() -> None:
    def monthly(start: dt.datetime) -> Iterator[dt.datetime]:
        return cron_occurrences("0 0 1 * *", None, True, start)

    plan = plan_fill(monthly, utc(2024, 1, 15), None, WEEK)
    assert plan.new_times == [utc(2024, 2, 1), utc(2024, 3, 1), utc(2024, 4, 1)]


def test_plan_fill_finished_series_needs_no_refill() -> None:
    def two(start: dt.datetime) -> Iterator[dt.datetime]:
        return rrule_occurrences(
            "DTSTART:20240102T000000\nRRULE:FREQ=DAILY;COUNT=2", None, start
        )

    plan = plan_fill(two, utc(2024, 1, 1), None, WEEK)
    assert len(plan.new_times) == 2
    assert plan.next_fill is None


def test_plan_fill_never_due_at_once() -> None:
    now = utc(2024, 1, 1, 10)
    plan = plan_fill(every_minute, now, None, FillLimits(dt.timedelta(days=1), 5, 2))
    assert plan.next_fill is not None
    assert plan.next_fill > now


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MINUTELY;INTERVAL=7",
        "FREQ=HOURLY;INTERVAL=5;BYMINUTE=15,45",
        "FREQ=DAILY;INTERVAL=3;BYHOUR=2;BYMINUTE=30",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR",
        "DTSTART:20230105T103000\nRRULE:FREQ=HOURLY;INTERVAL=13",
        "FREQ=DAILY;UNTIL=20240310T120000Z",
    ],
)
def test_rrule_skip_ahead_keeps_times(
    rule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = utc(2024, 3, 9, 18)
    fast = take(rrule_occurrences(rule, NEW_YORK, start), 20)
    monkeypatch.setattr(schedules, "_skip_ahead", lambda rules, begin: rules)
    slow = take(rrule_occurrences(rule, NEW_YORK, start), 20)
    assert fast == slow


def test_rrule_minutely_old_anchor_is_fast() -> None:
    import time

    began = time.perf_counter()
    times = take(rrule_occurrences("FREQ=MINUTELY", None, utc(2026, 1, 1)), 100)
    assert len(times) == 100
    assert time.perf_counter() - began < 1.0
