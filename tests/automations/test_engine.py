"""Tests of the automation engine against a real database (both backends)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from podium.automations import engine as engine_module
from podium.automations.engine import AutomationEngine
from podium.automations.service import EvaluateProactiveTriggers
from podium.schemas.automations import AutomationCreate
from podium.schemas.events import EventFilter, EventNameFilter, ReceivedEvent
from podium.storage import automations as storage
from podium.storage import events as event_storage
from podium.storage.database import Database


async def store_automation(database: Database, body: dict) -> uuid.UUID:
    automation = AutomationCreate.model_validate(
        {"name": "engine-test", "actions": [{"type": "do-nothing"}], **body}
    )
    async with database.transaction() as connection:
        return (await storage.create_automation(connection, automation)).id


async def triggered_count(database: Database) -> int:
    flt = EventFilter(
        event=EventNameFilter(name=["prefect.automation.triggered"]),
        occurred={
            "since": dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
            "until": dt.datetime(2100, 1, 1, tzinfo=dt.UTC),
        },
    )
    async with database.read() as connection:
        return await event_storage.count_events(connection, flt)


def make_event(name: str) -> ReceivedEvent:
    now = dt.datetime.now(dt.UTC)
    return ReceivedEvent(
        occurred=now,
        event=name,
        resource={"prefect.resource.id": "test.thing"},
        id=uuid.uuid4(),
        received=now,
    )


async def test_proactive_fires_after_quiet_window(database: Database) -> None:
    await store_automation(
        database,
        {"trigger": {"posture": "Proactive", "expect": ["test.beat"], "within": 10}},
    )
    service = EvaluateProactiveTriggers(database)
    now = dt.datetime.now(dt.UTC)

    opened = await service.run_once(now)
    ended = await service.run_once(now + dt.timedelta(seconds=11))

    assert opened == 0
    assert ended == 1
    assert await triggered_count(database) == 1


async def test_proactive_quiet_when_event_seen(database: Database) -> None:
    await store_automation(
        database,
        {"trigger": {"posture": "Proactive", "expect": ["test.beat"], "within": 10}},
    )
    engine = AutomationEngine(database)
    now = dt.datetime.now(dt.UTC)
    await engine.evaluate_proactive(now)

    await engine.react(make_event("test.beat"))
    fired = await engine.evaluate_proactive(now + dt.timedelta(seconds=11))

    assert fired == 0


async def test_reactive_threshold_counts_in_database(database: Database) -> None:
    await store_automation(
        database,
        {
            "trigger": {
                "posture": "Reactive",
                "expect": ["test.go"],
                "threshold": 2,
                "within": 60,
            }
        },
    )
    engine = AutomationEngine(database)
    await engine.refresh()

    await engine.react(make_event("test.go"))
    after_one = await triggered_count(database)
    await engine.react(make_event("test.go"))

    assert after_one == 0
    assert await triggered_count(database) == 1


async def test_compound_all_fires_after_both_children(database: Database) -> None:
    await store_automation(
        database,
        {
            "trigger": {
                "type": "compound",
                "require": "all",
                "within": 60,
                "triggers": [
                    {"posture": "Reactive", "expect": ["test.a"]},
                    {"posture": "Reactive", "expect": ["test.b"]},
                ],
            }
        },
    )
    engine = AutomationEngine(database)
    await engine.refresh()

    await engine.react(make_event("test.a"))
    after_one = await triggered_count(database)
    await engine.react(make_event("test.b"))

    assert after_one == 0
    assert await triggered_count(database) == 1


async def test_sequence_out_of_order_does_not_fire(database: Database) -> None:
    await store_automation(
        database,
        {
            "trigger": {
                "type": "sequence",
                "within": 60,
                "triggers": [
                    {"posture": "Reactive", "expect": ["test.first"]},
                    {"posture": "Reactive", "expect": ["test.second"]},
                ],
            }
        },
    )
    engine = AutomationEngine(database)
    await engine.refresh()

    await engine.react(make_event("test.second"))
    await engine.react(make_event("test.first"))

    assert await triggered_count(database) == 0


REACTIVE_GO = {
    "trigger": {"posture": "Reactive", "expect": ["test.go"], "threshold": 1}
}


async def test_engine_reloads_after_local_edit(database: Database) -> None:
    engine = AutomationEngine(database)
    await engine._refresh_if_due()
    await store_automation(database, REACTIVE_GO)

    await engine._refresh_if_due()

    assert len(engine.loaded.event_triggers) == 1


async def test_engine_reads_snapshot_once_per_interval(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = AutomationEngine(database)
    reads: list[bool] = []

    async def counted_refresh(force: bool = False) -> None:
        reads.append(force)

    monkeypatch.setattr(engine, "refresh", counted_refresh)
    for _ in range(3):
        await engine._refresh_if_due()

    assert len(reads) == 1


async def test_engine_rereads_snapshot_after_interval(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = AutomationEngine(database)
    await engine._refresh_if_due()
    # Stands for an edit by another process: it does not count as local.
    monkeypatch.setattr(storage, "local_edit_count", lambda: 0)
    monkeypatch.setattr(engine_module, "SNAPSHOT_CHECK_SECONDS", 0.0)
    engine._checked_edits = 0
    await store_automation(database, REACTIVE_GO)

    await engine._refresh_if_due()

    assert len(engine.loaded.event_triggers) == 1
