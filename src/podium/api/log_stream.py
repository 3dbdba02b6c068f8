"""Live delivery of newly created logs to websocket subscribers.

The stream lives in the API process: `POST /logs/` publishes each committed
batch, and every `/logs/out` socket receives the logs its filter matches.
There is no backfill, so a subscriber receives only logs created after it
connected. A subscriber that falls behind by more than `QUEUE_SIZE` logs
loses the oldest ones rather than slowing down the writers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from podium.schemas.filtering import Operator
from podium.schemas.logs import Log, LogFilter, TextQuery

logger = logging.getLogger(__name__)

QUEUE_SIZE = 10_000


def log_matches(log_filter: LogFilter, log: Log) -> bool:
    """Apply a log filter in Python, with the same meaning as the SQL filter."""
    checks: list[bool] = []
    if (level := log_filter.level) is not None:
        checks.append(
            (level.ge_ is None or log.level >= level.ge_)
            and (level.le_ is None or log.level <= level.le_)
        )
    if (timestamp := log_filter.timestamp) is not None:
        checks.append(
            (timestamp.after_ is None or log.timestamp >= timestamp.after_)
            and (timestamp.before_ is None or log.timestamp <= timestamp.before_)
        )
    if (flow_run := log_filter.flow_run_id) is not None and flow_run.any_ is not None:
        checks.append(log.flow_run_id in flow_run.any_)
    if (task_run := log_filter.task_run_id) is not None:
        checks.append(
            (task_run.any_ is None or log.task_run_id in task_run.any_)
            and (
                task_run.is_null_ is None
                or (log.task_run_id is None) == task_run.is_null_
            )
        )
    if (text := log_filter.text) is not None:
        checks.append(_text_matches(text.terms(), f"{log.message} {log.name}".lower()))
    if not checks:
        return True
    return any(checks) if log_filter.operator == Operator.or_ else all(checks)


def _text_matches(terms: TextQuery, text: str) -> bool:
    if terms.include and not any(term.lower() in text for term in terms.include):
        return False
    if any(term.lower() not in text for term in terms.required):
        return False
    return not any(term.lower() in text for term in terms.exclude)


class LogStream:
    """Fan-out of created logs to the subscribers whose filter matches."""

    def __init__(self) -> None:
        self._subscribers: dict[asyncio.Queue[Log], LogFilter] = {}
        self._dropped = 0

    def subscribe(self, log_filter: LogFilter) -> asyncio.Queue[Log]:
        queue: asyncio.Queue[Log] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers[queue] = log_filter
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Log]) -> None:
        self._subscribers.pop(queue, None)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, logs: Sequence[Log]) -> None:
        """Queue each log for every subscriber whose filter matches it."""
        for queue, log_filter in self._subscribers.items():
            for log in logs:
                if not log_matches(log_filter, log):
                    continue
                if queue.full():
                    queue.get_nowait()
                    self._count_drop()
                queue.put_nowait(log)

    def _count_drop(self) -> None:
        self._dropped += 1
        # Report the first drop and then every thousandth, not each one.
        if self._dropped % 1000 == 1:
            logger.warning(
                "A log subscriber is more than %d logs behind; %d logs dropped so far.",
                QUEUE_SIZE,
                self._dropped,
            )
