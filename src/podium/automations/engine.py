"""Evaluate automations against stored events and over time, and act on firings.

`AutomationEngine.receive` is called with every batch of events that a
write transaction committed (see `podium.events.EventsRuntime`), and it
only queues them. One task then judges each event against the enabled event
triggers and updates their buckets in short write transactions. It also
carries out the actions of the automations that fired. `evaluate_proactive` is the periodic
step for Proactive triggers, run by `EvaluateProactiveTriggers`.

The engine caches the enabled automations and reloads them whenever the
latest update time or the count of automations changes. Before each batch
of events it checks that snapshot if this process edited automations since
the last check, and otherwise at most every `SNAPSHOT_CHECK_SECONDS`. So
local edits take effect on the next event, and edits made by another
process within that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from podium.automations import actions
from podium.automations.automation_events import (
    automation_triggered_event,
    triggered_actions,
)
from podium.automations.triggers import (
    Bucket,
    Firing,
    bucketing_key,
    composite_ready,
    covers,
    evaluate,
    expects,
    fires_on_every_event,
    react,
    triggering_labels,
)
from podium.schemas.automations import (
    Automation,
    CompositeTrigger,
    EventTrigger,
    Posture,
    all_triggers,
)
from podium.schemas.events import ReceivedEvent
from podium.storage import automations as storage
from podium.storage.database import Database
from podium.storage.events import record_event

logger = logging.getLogger(__name__)

# Buckets stay this long after their window ended before they are swept, as
# the Prefect server's default.
EXPIRED_BUCKET_BUFFER = dt.timedelta(seconds=60)

# Seconds between two reads of the automations' snapshot when this process
# made no edit in between. It bounds how late another process's edit applies.
SNAPSHOT_CHECK_SECONDS = 1.0

# Events waiting for evaluation; past this, new events are dropped (logged),
# so a stuck evaluation cannot grow memory without bound.
MAX_QUEUED_EVENTS = 100_000


@dataclass
class LoadedAutomations:
    """The enabled automations, their event triggers and each trigger's parent."""

    by_id: dict[UUID, Automation] = field(default_factory=dict)
    event_triggers: list[tuple[Automation, EventTrigger]] = field(default_factory=list)
    parents: dict[UUID, CompositeTrigger | None] = field(default_factory=dict)

    @classmethod
    def of(cls, automations: Sequence[Automation]) -> LoadedAutomations:
        loaded = cls()
        for automation in automations:
            if not automation.enabled:
                continue
            loaded.by_id[automation.id] = automation
            loaded.parents[automation.trigger.id] = None
            for trigger in all_triggers(automation.trigger):
                if isinstance(trigger, EventTrigger):
                    loaded.event_triggers.append((automation, trigger))
                else:
                    for child in trigger.triggers:
                        loaded.parents[child.id] = trigger
        return loaded


def _bucket_from_row(row: Any) -> Bucket:
    last_event = (
        ReceivedEvent.model_validate(row.last_event) if row.last_event else None
    )
    return Bucket(
        storage.decode_key(row.bucketing_key), row.start, row.end, row.count, last_event
    )


def _bucket_values(bucket: Bucket | None) -> dict[str, Any] | None:
    if bucket is None:
        return None
    return {
        "start": bucket.start,
        "end": bucket.end,
        "count": bucket.count,
        "last_event": bucket.last_event.model_dump(mode="json")
        if bucket.last_event
        else None,
    }


class AutomationEngine:
    """Judges events and time against automations, and acts on their firings."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.loaded = LoadedAutomations()
        self._snapshot: tuple[dt.datetime | None, int] | None = None
        self._checked_edits: int | None = None
        self._checked_at = 0.0
        # None wakes the task up to stop.
        self._queue: asyncio.Queue[ReceivedEvent | None] = asyncio.Queue(
            MAX_QUEUED_EVENTS
        )
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._dropped = 0

    # Reactive evaluation ---------------------------------------------------------

    def receive(self, events: Sequence[ReceivedEvent]) -> None:
        """Queue committed events for evaluation; never blocks or raises."""
        for event in events:
            try:
                self._queue.put_nowait(event)
            except asyncio.QueueFull:
                self._dropped += 1
                if self._dropped == 1 or self._dropped % 1000 == 0:
                    logger.error(
                        "Automations fell %d events behind; dropped %d events so far.",
                        MAX_QUEUED_EVENTS,
                        self._dropped,
                    )

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="podium-automations")

    async def stop(self, timeout_seconds: float = 5.0) -> None:
        """Finish the event in progress, drop the rest, then end the task.

        Cancelling in the middle of a transaction would leave its connection
        unusable, so the task is only cancelled after `timeout_seconds`.
        """
        if self._task is None:
            return
        self._stopping = True
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)
        done, _ = await asyncio.wait({self._task}, timeout=timeout_seconds)
        if not done:
            logger.warning(
                "Automations did not stop within %.1f s; cancelling.", timeout_seconds
            )
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._refresh_if_due()
            except Exception:
                logger.exception("Reading automations failed; using the loaded ones.")
            for event in batch:
                if self._stopping:
                    return
                if event is None:
                    continue
                try:
                    await self.react(event)
                except Exception:
                    logger.exception(
                        "Evaluating automations for event %s (%s) failed.",
                        event.id,
                        event.event,
                    )

    async def _refresh_if_due(self) -> None:
        """Refresh after a local edit, or when the last check is old enough."""
        edits = storage.local_edit_count()
        now = time.monotonic()
        if (
            edits == self._checked_edits
            and now - self._checked_at < SNAPSHOT_CHECK_SECONDS
        ):
            return
        # NOTE: an edit is counted before its transaction commits. A check that
        # runs in between reads the old rows, and the edit then applies at the
        # next timed check, within SNAPSHOT_CHECK_SECONDS.
        self._checked_edits = edits
        self._checked_at = now
        await self.refresh()

    async def refresh(self, force: bool = False) -> None:
        """Reload the automations if any was created, changed or deleted."""
        async with self.database.read() as connection:
            snapshot = await storage.read_automation_snapshot(connection)
            if not force and snapshot == self._snapshot:
                return
            automations = await storage.read_automations(connection)
        self.loaded = LoadedAutomations.of(automations)
        self._snapshot = snapshot

    async def react(self, event: ReceivedEvent) -> None:
        """Judge one event against every event trigger that covers it."""
        for automation, trigger in self.loaded.event_triggers:
            if not covers(trigger, event):
                continue
            logger.debug(
                "Trigger %s of automation %s covers event %s (%s).",
                trigger.id,
                automation.id,
                event.id,
                event.event,
            )
            firings = await self._judge(automation, trigger, event)
            for firing in firings:
                await self.fire(automation, firing)

    async def _judge(
        self, automation: Automation, trigger: EventTrigger, event: ReceivedEvent
    ) -> list[Firing]:
        key = bucketing_key(trigger, event)
        if fires_on_every_event(trigger):
            if not expects(trigger, event.event):
                return []
            firing = Firing(
                trigger_id=trigger.id,
                triggered=dt.datetime.now(dt.UTC),
                triggering_labels=triggering_labels(trigger, key),
                triggering_event=event,
            )
            if self.loaded.parents.get(trigger.id) is None:
                return [firing]
            async with self.database.transaction() as connection:
                return await self._resolve(connection, automation, [firing])

        async with self.database.transaction() as connection:
            rows = await storage.read_bucket_rows(
                connection, automation.id, trigger.id, key
            )
            stored = _bucket_from_row(rows[0]) if rows else None
            outcome = react(trigger, stored, event)
            if outcome.bucket is not None or stored is not None:
                await storage.write_bucket(
                    connection,
                    automation.id,
                    trigger.id,
                    key,
                    _bucket_values(outcome.bucket),
                )
            return await self._resolve(connection, automation, outcome.firings)

    # Compound and sequence triggers ------------------------------------------------

    async def _resolve(
        self, connection: AsyncConnection, automation: Automation, firings: list[Firing]
    ) -> list[Firing]:
        """Pass child firings up through composite triggers; return the top-level ones."""
        top: list[Firing] = []
        for firing in firings:
            parent = self.loaded.parents.get(firing.trigger_id)
            if parent is None:
                top.append(firing)
                continue
            combined = await self._combine(connection, automation, parent, firing)
            if combined is not None:
                top += await self._resolve(connection, automation, [combined])
        return top

    async def _combine(
        self,
        connection: AsyncConnection,
        automation: Automation,
        parent: CompositeTrigger,
        firing: Firing,
    ) -> Firing | None:
        if parent.expected_firings == 1:
            children = [firing]
        else:
            fired_after = (
                firing.triggered - parent.within if parent.within is not None else None
            )
            await storage.store_child_firing(
                connection,
                automation.id,
                parent.id,
                firing.trigger_id,
                firing.id,
                firing.triggered,
                firing.to_json(),
            )
            stored = await storage.read_child_firings(
                connection, automation.id, parent.id, fired_after
            )
            children = [Firing.from_json(data) for data in stored]
            if firing.id not in {child.id for child in children}:
                return None
            if not composite_ready(parent, children):
                return None
            await storage.delete_child_firings(connection, automation.id, parent.id)
        return Firing(
            trigger_id=parent.id,
            triggered=dt.datetime.now(dt.UTC),
            triggering_firings=children,
            triggering_event=firing.triggering_event,
        )

    # Acting -----------------------------------------------------------------------

    async def fire(self, automation: Automation, firing: Firing) -> None:
        """Record that the automation triggered, then run its actions in order."""
        logger.info("Automation %s (%r) triggered.", automation.id, automation.name)
        triggered_event = automation_triggered_event(automation, firing)
        async with self.database.transaction() as connection:
            await record_event(connection, triggered_event.receive())
        for triggered in triggered_actions(automation, firing, triggered_event):
            try:
                await actions.perform(self.database, triggered)
            except Exception:
                logger.exception(
                    "Action %d of automation %s failed unexpectedly.",
                    triggered.action_index,
                    automation.id,
                )

    # Proactive evaluation -----------------------------------------------------------

    async def evaluate_proactive(self, now: dt.datetime) -> int:
        """Fire Proactive triggers whose windows ended with too few events.

        Returns the number of automations that fired.
        """
        await self.refresh()
        fired = 0
        for automation, trigger in self.loaded.event_triggers:
            if trigger.posture != Posture.Proactive:
                continue
            async with self.database.transaction() as connection:
                firings = await self._evaluate_buckets(
                    connection, automation, trigger, now
                )
                top = await self._resolve(connection, automation, firings)
            for firing in top:
                await self.fire(automation, firing)
                fired += 1

        async with self.database.transaction() as connection:
            await storage.delete_closed_buckets(connection, now - EXPIRED_BUCKET_BUFFER)
        return fired

    async def _evaluate_buckets(
        self,
        connection: AsyncConnection,
        automation: Automation,
        trigger: EventTrigger,
        now: dt.datetime,
    ) -> list[Firing]:
        # A trigger without for_each always has a window open.
        if not trigger.for_each and not await storage.read_bucket_rows(
            connection, automation.id, trigger.id, ()
        ):
            bucket = Bucket((), now, now + trigger.within, 0)
            await storage.write_bucket(
                connection, automation.id, trigger.id, (), _bucket_values(bucket)
            )
        firings: list[Firing] = []
        for row in await storage.read_bucket_rows(
            connection, automation.id, trigger.id
        ):
            bucket = _bucket_from_row(row)
            if bucket.count >= trigger.threshold:
                outcome_bucket = None
            else:
                outcome = evaluate(trigger, bucket, now, None)
                outcome_bucket = outcome.bucket
                firings += outcome.firings
            await storage.write_bucket(
                connection,
                automation.id,
                trigger.id,
                bucket.key,
                _bucket_values(outcome_bucket),
            )
        return firings
