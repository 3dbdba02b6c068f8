"""Tests for the event write path: batching, failure isolation and draining."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from podium.events import pipeline as pipeline_module
from podium.events.pipeline import EventPipeline
from podium.schemas.events import Event, EventFilter
from podium.storage import events as storage
from podium.storage.database import Database

from .factories import NOW, event

WINDOW = {"since": "2025-01-01T00:00:00Z", "until": "2027-01-01T00:00:00Z"}


async def stored_names(database: Database) -> list[str]:
    event_filter = EventFilter.model_validate({"occurred": WINDOW, "order": "ASC"})
    async with database.read() as connection:
        return [e.event for e in await storage.read_events(connection, event_filter)]


def events_named(*names: str) -> list[Event]:
    return [Event.model_validate(event(name, occurred=NOW)) for name in names]


@pytest.fixture
async def pipeline(database: Database) -> Any:
    started = EventPipeline(database)
    await started.start()
    yield started
    await started.stop()


async def test_pipeline_batches_queued_submissions(
    pipeline: EventPipeline, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    store = pipeline._store

    async def counting_store(received: list) -> None:
        batches.append(len(received))
        await store(received)

    monkeypatch.setattr(pipeline, "_store", counting_store)
    futures = [pipeline.submit(events_named(f"compat.n{i}")) for i in range(5)]

    await asyncio.gather(*futures)

    assert batches == [5]
    assert len(await stored_names(database)) == 5


async def test_pipeline_isolates_failing_submission(
    pipeline: EventPipeline, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "RETRY_DELAYS_SECONDS", (0.0,))
    write_events = storage.write_events

    async def failing_write(connection: Any, received: list) -> list:
        if any(e.event == "compat.poison" for e in received):
            raise RuntimeError("the database rejected the batch")
        return await write_events(connection, received)

    monkeypatch.setattr(storage, "write_events", failing_write)
    good = pipeline.submit(events_named("compat.good.1"))
    bad = pipeline.submit(events_named("compat.poison"))
    also_good = pipeline.submit(events_named("compat.good.2"))

    results = await asyncio.gather(good, bad, also_good, return_exceptions=True)

    assert results[0] is None
    assert isinstance(results[1], RuntimeError)
    assert results[2] is None
    assert sorted(await stored_names(database)) == ["compat.good.1", "compat.good.2"]


async def test_pipeline_stop_stores_queued_events(database: Database) -> None:
    pipeline = EventPipeline(database)
    await pipeline.start()
    future = pipeline.submit(events_named("compat.late"))

    await pipeline.stop()

    assert future.done()
    assert await stored_names(database) == ["compat.late"]
