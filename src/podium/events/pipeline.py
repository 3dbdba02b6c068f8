"""The write path for events that clients send.

Handlers call `submit`, which queues the events and returns a future. One
writer task waits `GATHER_SECONDS` after the first submission, takes
everything queued by then and stores it in a single short write
transaction: the events (skipping ids already stored), then the task runs
and states that client-side task-run events describe. SQLite has one
writer, so a burst of events costs a few transactions rather than one per
event.

A batch that fails is retried, then written one submission at a time, so
one bad submission cannot drop the others. The future of each submission
completes when its events are committed, or fails with the error that kept
them out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from podium.schemas.events import Event, ReceivedEvent
from podium.storage import events as storage
from podium.storage.database import Database
from podium.storage.task_run_recorder import record_task_run_events

logger = logging.getLogger(__name__)

# Events per write transaction; a batch this size commits in tens of
# milliseconds on SQLite, which keeps other writers' waits short.
MAX_BATCH_EVENTS = 2000

# How long the writer gathers submissions before it writes them. State
# changes from concurrent clients each bring one event, so without the wait
# most batches contained one. With it, set_state throughput rose by about 10%
# in `bench/run --set-state` (8 clients).
GATHER_SECONDS = 0.02

# Delays between the attempts to write a batch that failed.
RETRY_DELAYS_SECONDS = (0.05, 0.5)


@dataclass
class _Submission:
    events: list[ReceivedEvent]
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class EventPipeline:
    """A queue of submitted events and the task that stores them."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._queue: asyncio.Queue[_Submission] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._run(), name="podium-event-writer")

    async def stop(self) -> None:
        """Store everything already submitted, then stop the writer."""
        if self._writer is None:
            return
        await self._queue.join()
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        self._writer = None

    def submit(self, events: Sequence[Event]) -> asyncio.Future[None]:
        """Queue events for storage; the future completes once they are stored."""
        return self.submit_received([event.receive() for event in events])

    def submit_received(self, events: list[ReceivedEvent]) -> asyncio.Future[None]:
        """Queue events the server made, which carry their receive time already."""
        submission = _Submission(events)
        self._queue.put_nowait(submission)
        return submission.done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(GATHER_SECONDS)
            size = len(batch[0].events)
            while size < MAX_BATCH_EVENTS and not self._queue.empty():
                batch.append(self._queue.get_nowait())
                size += len(batch[-1].events)
            try:
                await self._write_batch(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write_batch(self, batch: list[_Submission]) -> None:
        received = [event for submission in batch for event in submission.events]
        error: Exception | None = None
        for delay in (0.0, *RETRY_DELAYS_SECONDS):
            await asyncio.sleep(delay)
            try:
                await self._store(received)
            except Exception as exc:  # noqa: BLE001 - retried, then isolated below
                error = exc
                continue
            for submission in batch:
                _finish(submission)
            return

        logger.warning(
            "Writing %d events failed (%s); writing each submission alone.",
            len(received),
            error,
        )
        for submission in batch:
            try:
                await self._store(submission.events)
            except Exception as exc:
                logger.exception(
                    "Dropped %d events that could not be stored, first id %s.",
                    len(submission.events),
                    submission.events[0].id if submission.events else None,
                )
                _finish(submission, exc)
            else:
                _finish(submission)

    async def _store(self, received: list[ReceivedEvent]) -> None:
        async with self.database.transaction() as connection:
            new_events = await storage.write_events(connection, received)
            await record_task_run_events(connection, new_events)


def _finish(submission: _Submission, error: Exception | None = None) -> None:
    if submission.done.done():
        return
    if error is None:
        submission.done.set_result(None)
    else:
        submission.done.set_exception(error)
