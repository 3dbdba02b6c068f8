"""Occurrence times of cron, interval and rrule schedules.

Pure schedule arithmetic: no IO and no clock. Every function takes the
instant to start from and yields timezone-aware UTC datetimes in strictly
increasing order, starting at or after that instant.

Daylight-saving policy
----------------------
Cron and rrule schedules, and intervals of whole days, are wall-clock
schedules: their times are computed in the schedule's timezone and then
turned into instants by these two rules.

- A local time that occurs twice (the night clocks go back) means its first
  occurrence, the one before the change, so it produces one run.
- A local time that does not exist (the night clocks go forward) is read
  with the offset in force before the change. It therefore runs as many
  minutes after the gap as it was into it, so 02:30 on a New York
  spring-forward night runs at 03:30 EDT. When that instant equals another
  occurrence the two produce one run.

Intervals shorter than a day are elapsed time, as in Prefect 3.9.1: they
fire every `interval` of real time from the anchor, whatever the local
clock shows. Every such occurrence is a distinct instant, so on a fall-back
night an hourly interval runs at both 01:00 BST and 01:00 GMT in London. An interval
of whole days plus a remainder moves the days on the wall clock and the
remainder in elapsed time.

An rrule without DTSTART is anchored at `RRULE_DEFAULT_ANCHOR` (midnight of
2020-01-01 in the schedule's timezone), never at the current time, so the
same rule always yields the same times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from dateutil.rrule import rruleset

# croniter and dateutil are imported by the functions that use them, so a
# server without cron or rrule schedules never loads them (0.5 MB of
# resident memory). The first schedule pays the import, about 10 ms.

UTC = dt.UTC
RRULE_DEFAULT_ANCHOR = dt.datetime(2020, 1, 1)

# The shortest wait before a filled schedule is looked at again.
MIN_REFILL_DELAY = dt.timedelta(seconds=1)

# A wall-clock series that starts within this long after a clock change is
# searched from before the change (see `_wall_clock_begin`).
_CLOCK_CHANGE_WINDOW = dt.timedelta(days=1)


class InvalidSchedule(ValueError):
    """A schedule definition that cannot produce times."""


@lru_cache(maxsize=512)
def zone(name: str | None) -> ZoneInfo:
    """Return the IANA timezone `name`, UTC for None."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidSchedule(
            f"Invalid timezone {name!r}: use an IANA name."
        ) from error


def to_instant(wall_time: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Turn a naive local time into a UTC instant by the module's DST policy.

    `fold=0` selects the first of two repeated times. For a time inside a gap
    it selects the offset in force before the gap, as PEP 495 specifies and
    zoneinfo implements.
    """
    return wall_time.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _wall_clock_begin(start: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Return the naive local time from which to search for occurrences >= `start`.

    A local time inside a recent spring-forward gap maps to an instant after
    the gap, so it can belong to the result although it reads earlier than
    `start`. Searching from as far back as the offset changed covers it, and
    `_increasing` drops what is too early. A microsecond back makes exclusive
    iterators such as croniter include `start` itself.
    """
    earlier = start - _CLOCK_CHANGE_WINDOW
    shift = abs(_offset(start, tz) - _offset(earlier, tz))
    local_start = start.astimezone(tz).replace(tzinfo=None)
    return local_start - shift - dt.timedelta(microseconds=1)


def _offset(instant: dt.datetime, tz: ZoneInfo) -> dt.timedelta:
    return instant.astimezone(tz).utcoffset() or dt.timedelta(0)


def _increasing(
    instants: Iterable[dt.datetime], start: dt.datetime
) -> Iterator[dt.datetime]:
    """Drop instants before `start` and repeats, which DST policy can create."""
    last: dt.datetime | None = None
    for instant in instants:
        if instant < start or (last is not None and instant <= last):
            continue
        last = instant
        yield instant


# Cron ----------------------------------------------------------------------


def validate_cron(expression: str) -> str:
    """Return `expression` if croniter accepts it as a 5-field cron string."""
    from croniter import croniter

    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise InvalidSchedule(f"Invalid cron string {expression!r}.")
    return expression


def cron_occurrences(
    expression: str, timezone: str | None, day_or: bool, start: dt.datetime
) -> Iterator[dt.datetime]:
    """Yield the instants of a cron schedule at or after `start`."""
    from croniter import croniter

    tz = zone(timezone)
    iterator = croniter(expression, _wall_clock_begin(start, tz), day_or=day_or)

    def wall_times() -> Iterator[dt.datetime]:
        while True:
            yield to_instant(iterator.get_next(dt.datetime), tz)

    return _increasing(wall_times(), start)


# Interval ------------------------------------------------------------------


def interval_occurrences(
    interval: dt.timedelta,
    anchor: dt.datetime,
    timezone: str | None,
    start: dt.datetime,
) -> Iterator[dt.datetime]:
    """Yield `anchor + k * interval` for k >= 0 (or < 0) at or after `start`.

    A naive `anchor` is a local time in `timezone`.
    """
    if interval <= dt.timedelta(0):
        raise InvalidSchedule("The interval must be positive.")
    tz = zone(timezone)
    if anchor.tzinfo is None:
        anchor = to_instant(anchor, tz)
    days = dt.timedelta(days=interval.days)
    remainder = interval - days
    anchor_wall = anchor.astimezone(tz).replace(tzinfo=None)

    def nth(k: int) -> dt.datetime:
        if not days:
            return anchor + k * remainder
        return to_instant(anchor_wall + k * days, tz) + k * remainder

    # Jump close to `start` in one step; the estimate is off by at most a
    # DST shift, so stepping back a few intervals covers it.
    first = (start - anchor) // interval - 2
    return _increasing((nth(k) for k in _count_from(first)), start)


def _count_from(first: int) -> Iterator[int]:
    k = first
    while True:
        yield k
        k += 1


# RRule ---------------------------------------------------------------------


def parse_rrule(text: str, timezone: str | None) -> rruleset:
    """Parse an RFC 5545 rule; a missing DTSTART means `RRULE_DEFAULT_ANCHOR`."""
    from dateutil.rrule import rrulestr

    tz = zone(timezone)
    try:
        return rrulestr(
            text,
            forceset=True,
            dtstart=RRULE_DEFAULT_ANCHOR.replace(tzinfo=tz),
            tzids=_zone_for_tzid,
            cache=False,
        )
    except (ValueError, TypeError, InvalidSchedule) as error:
        raise InvalidSchedule(f"Invalid RRule string {text!r}: {error}.") from error


def _zone_for_tzid(name: str) -> ZoneInfo:
    return zone(name)


def rrule_occurrences(
    text: str, timezone: str | None, start: dt.datetime
) -> Iterator[dt.datetime]:
    """Yield the instants of an rrule at or after `start`.

    A DTSTART without a zone is a local time in `timezone`; a DTSTART with a
    TZID keeps that zone.
    """
    tz = zone(timezone)
    rules = parse_rrule(text, timezone)
    begin = start - _CLOCK_CHANGE_WINDOW

    def instants() -> Iterator[dt.datetime]:
        begin_value = _comparable(begin, rules, tz)
        for value in _skip_ahead(rules, begin_value).xafter(begin_value, inc=True):
            yield _rrule_instant(value, tz)

    return _increasing(instants(), start)


@cache
def _periods() -> dict[int, dt.timedelta]:
    """Return the whole periods a rule may be moved by without changing its times."""
    from dateutil import rrule

    return {
        rrule.SECONDLY: dt.timedelta(seconds=1),
        rrule.MINUTELY: dt.timedelta(minutes=1),
        rrule.HOURLY: dt.timedelta(hours=1),
        rrule.DAILY: dt.timedelta(days=1),
        rrule.WEEKLY: dt.timedelta(weeks=1),
    }


def _skip_ahead(rules: rruleset, begin: dt.datetime) -> rruleset:
    """Move a lone rule's DTSTART forward to just before `begin`.

    dateutil walks every occurrence from DTSTART, which for a minutely rule
    anchored years ago means millions of steps. Moving DTSTART by a whole
    number of `INTERVAL` periods keeps every later occurrence, including
    the BYxxx parts that default to DTSTART's fields. Rules with COUNT,
    several rules, or RDATE/EXDATE are left alone, because moving them would
    change the result. This reads dateutil's private attributes (checked
    against python-dateutil 2.9).
    """
    inner = rules._rrule
    if len(inner) != 1 or rules._rdate or rules._exrule or rules._exdate:
        return rules
    rule = inner[0]
    period = _periods().get(rule._freq)
    if period is None or rule._count is not None:
        return rules
    step = period * rule._interval
    periods = (begin - rule._dtstart) // step - 1
    if periods <= 0:
        return rules
    from dateutil.rrule import rruleset

    moved = rruleset()
    moved.rrule(rule.replace(dtstart=rule._dtstart + periods * step))
    return moved


def _comparable(instant: dt.datetime, rules: rruleset, tz: ZoneInfo) -> dt.datetime:
    # dateutil compares `xafter`'s argument with DTSTART, so it must be naive
    # exactly when DTSTART is.
    first = next(iter(rules), None)
    if first is not None and first.tzinfo is None:
        return instant.astimezone(tz).replace(tzinfo=None)
    return instant


def _rrule_instant(value: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    if value.tzinfo is None:
        return to_instant(value, tz)
    if isinstance(value.tzinfo, ZoneInfo):
        return to_instant(value.replace(tzinfo=None), value.tzinfo)
    return value.astimezone(UTC)


# Filling a window ------------------------------------------------------------


@dataclass(frozen=True)
class FillLimits:
    """How far ahead a schedule is kept filled.

    All occurrences up to `horizon` ahead are scheduled, at least `min_runs`
    even past the horizon, and never more than `max_runs` pending at once.
    """

    horizon: dt.timedelta
    min_runs: int
    max_runs: int


@dataclass(frozen=True)
class FillPlan:
    """The result of `plan_fill`.

    - `new_times` are occurrences after `scheduled_until` to create runs for.
    - `scheduled_until` is the last occurrence now covered by runs.
    - `next_fill` is when the schedule must be looked at again: when fewer
      than `min_runs` pending runs would remain, or when the moving horizon
      reaches the next uncovered occurrence, whichever comes first. None
      means the schedule has no further occurrences.
    """

    new_times: list[dt.datetime]
    scheduled_until: dt.datetime | None
    next_fill: dt.datetime | None


def plan_fill(
    occurrences: Callable[[dt.datetime], Iterator[dt.datetime]],
    now: dt.datetime,
    scheduled_until: dt.datetime | None,
    limits: FillLimits,
) -> FillPlan:
    """Decide which occurrences to add so a schedule is filled as `limits` require.

    `occurrences(start)` yields the schedule's instants from `start`;
    `scheduled_until` is the last occurrence already given a run (None when
    none has). Occurrences before `now` are never added.
    """
    end = now + limits.horizon
    pending: list[dt.datetime] = []
    new_times: list[dt.datetime] = []
    following: dt.datetime | None = None
    for instant in occurrences(now):
        full = len(pending) >= limits.max_runs
        past_horizon = instant > end and len(pending) >= limits.min_runs
        if full or past_horizon:
            following = instant
            break
        pending.append(instant)
        if scheduled_until is None or instant > scheduled_until:
            new_times.append(instant)

    last = pending[-1] if pending else scheduled_until
    if last is not None and scheduled_until is not None:
        last = max(last, scheduled_until)
    next_fill = _next_fill(
        pending,
        following,
        full_stop=len(pending) >= limits.max_runs,
        now=now,
        limits=limits,
    )
    return FillPlan(new_times, last, next_fill)


def _next_fill(
    pending: list[dt.datetime],
    following: dt.datetime | None,
    full_stop: bool,
    now: dt.datetime,
    limits: FillLimits,
) -> dt.datetime | None:
    if following is None:
        return None
    # After this occurrence passes, fewer than `min_runs` runs remain pending.
    min_runs = max(1, limits.min_runs)
    low_water = pending[len(pending) - min_runs] if len(pending) >= min_runs else now
    # The horizon moves with the clock and reaches `following` at this time.
    reach = following - limits.horizon
    next_fill = low_water if full_stop else min(low_water, reach)
    # Never due again at once, so a caller that loops until nothing is due ends.
    return max(next_fill, now + MIN_REFILL_DELAY)
