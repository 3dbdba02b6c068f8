"""Live delivery of committed events to `/events/out` subscribers.

The stream lives in the API process. It receives every batch of events that
a write transaction committed (see `storage.events.on_events_committed`) and
copies each event into the queue of every subscriber whose filter matches.
A subscriber that falls more than `QUEUE_SIZE` events behind is cut off, so
a slow reader never holds up writers; its socket is then closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from podium.events.filters import event_matches
from podium.schemas.events import EventFilter, ReceivedEvent

logger = logging.getLogger(__name__)

QUEUE_SIZE = 10_000


class Subscription:
    """One subscriber's queue of matching events."""

    def __init__(self, event_filter: EventFilter) -> None:
        self.filter = event_filter
        self.queue: asyncio.Queue[ReceivedEvent] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False

    def offer(self, event: ReceivedEvent) -> None:
        if self.overflowed or not event_matches(self.filter, event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            logger.warning(
                "An event subscriber fell %d events behind and was disconnected.",
                QUEUE_SIZE,
            )

    async def get(self) -> ReceivedEvent:
        return await self.queue.get()


class EventStream:
    """Fan-out of committed events to the subscriptions whose filter matches."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def publish(self, events: Sequence[ReceivedEvent]) -> None:
        """Offer events to every subscriber without waiting (full queues cut it off)."""
        for subscription in list(self._subscriptions):
            for event in events:
                subscription.offer(event)

    @asynccontextmanager
    async def subscribe(self, event_filter: EventFilter) -> AsyncIterator[Subscription]:
        subscription = Subscription(event_filter)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)
