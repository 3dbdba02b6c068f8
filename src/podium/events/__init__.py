"""Event ingestion, the live event stream and the services built on them."""

from __future__ import annotations

from collections.abc import Callable

from podium.events.pipeline import EventPipeline
from podium.events.stream import EventStream
from podium.schemas.events import ReceivedEvent
from podium.storage import events as storage
from podium.storage.database import Database


class EventsRuntime:
    """The event pipeline and stream of one API process."""

    def __init__(self, database: Database) -> None:
        self.stream = EventStream()
        self.pipeline = EventPipeline(database)
        # Called after the stream with each committed batch; they must not block.
        self.listeners: list[Callable[[list[ReceivedEvent]], None]] = []
        storage.on_events_committed(database, self._publish)

    def _publish(self, events: list[ReceivedEvent]) -> None:
        self.stream.publish(events)
        for listener in self.listeners:
            listener(events)

    async def start(self) -> None:
        await self.pipeline.start()

    async def stop(self) -> None:
        await self.pipeline.stop()


__all__ = ["EventPipeline", "EventStream", "EventsRuntime"]
