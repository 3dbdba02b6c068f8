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
        self.database = database

    def _publish(self, events: list[ReceivedEvent]) -> None:
        self.stream.publish(events)
        for listener in self.listeners:
            listener(events)

    async def start(self) -> None:
        await self.pipeline.start()
        # While the pipeline runs, state-change events go through it: it
        # writes them in batches after the transitions commit.
        storage.send_events_after_commit(self.database, self._submit_server_events)

    async def stop(self) -> None:
        storage.send_events_after_commit(self.database, None)
        await self.pipeline.stop()

    def _submit_server_events(self, events: list[ReceivedEvent]) -> None:
        done = self.pipeline.submit_received(events)
        # The pipeline logs a failed write itself, and no caller awaits this future.
        done.add_done_callback(lambda future: future.cancelled() or future.exception())


__all__ = ["EventPipeline", "EventStream", "EventsRuntime"]
