"""Storage tests for writing, filtering, paging and counting events.

Each filter case also runs through the Python matcher that the live stream
uses, so the SQL and the stream cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from podium.errors import InvalidRequest
from podium.events.filters import event_matches
from podium.schemas.events import Countable, Event, EventFilter, ReceivedEvent, TimeUnit
from podium.storage import events as storage
from podium.storage.database import Database

from .factories import NOW, event, related

MINUTE = dt.timedelta(minutes=1)
WINDOW = {
    "since": (NOW - dt.timedelta(days=1)).isoformat(),
    "until": (NOW + dt.timedelta(days=1)).isoformat(),
}


def sample_events() -> list[ReceivedEvent]:
    bodies = [
        event(
            "prefect.flow-run.Running",
            "prefect.flow-run.aaa",
            NOW,
            related=[
                related("prefect.flow.f1", "flow", **{"prefect.resource.name": "etl"}),
                related("prefect.tag.nightly", "tag"),
            ],
            **{"prefect.resource.name": "brave-otter", "prefect.state-type": "RUNNING"},
        ),
        event(
            "prefect.flow-run.Completed",
            "prefect.flow-run.aaa",
            NOW + MINUTE,
            related=[
                related("prefect.flow.f1", "flow", **{"prefect.resource.name": "etl"})
            ],
            payload={"note": "Finished in TIME"},
            **{
                "prefect.resource.name": "brave-otter",
                "prefect.state-type": "COMPLETED",
            },
        ),
        event(
            "prefect.task-run.Completed",
            "prefect.task-run.bbb",
            NOW + 2 * MINUTE,
            related=[related("prefect.flow-run.aaa", "flow-run")],
            **{"prefect.resource.name": "Extract-1"},
        ),
        event(
            "compat.custom.one",
            "compat.widget.1",
            NOW + 3 * MINUTE,
            related=[related("compat.owner.1", "owner")],
        ),
    ]
    return [Event.model_validate(body).receive() for body in bodies]


async def store(
    database: Database, received: list[ReceivedEvent]
) -> list[ReceivedEvent]:
    async with database.transaction() as connection:
        return await storage.write_events(connection, received)


FILTER_CASES: list[tuple[str, dict[str, Any], list[int]]] = [
    ("everything", {}, [3, 2, 1, 0]),
    ("name", {"event": {"name": ["prefect.flow-run.Completed"]}}, [1]),
    ("prefix", {"event": {"prefix": ["prefect.flow-run."]}}, [1, 0]),
    ("prefix is case-sensitive", {"event": {"prefix": ["PREFECT."]}}, []),
    ("exclude prefix", {"event": {"exclude_prefix": ["prefect."]}}, [3]),
    ("exclude name", {"event": {"exclude_name": ["compat.custom.one"]}}, [2, 1, 0]),
    (
        "empty lists",
        {"event": {"name": [], "prefix": []}, "id": {"id": []}},
        [3, 2, 1, 0],
    ),
    ("resource id", {"resource": {"id": ["prefect.flow-run.aaa"]}}, [1, 0]),
    ("resource prefix", {"resource": {"id_prefix": ["prefect.task-run."]}}, [2]),
    (
        "resource label",
        {"resource": {"labels": {"prefect.state-type": "COMPLETED"}}},
        [1],
    ),
    (
        "resource label glob",
        {"resource": {"labels": {"prefect.resource.name": "Extract-*"}}},
        [2],
    ),
    (
        "glob is case-sensitive",
        {"resource": {"labels": {"prefect.resource.name": "extract-*"}}},
        [],
    ),
    (
        "negated label",
        {"resource": {"labels": {"prefect.resource.name": "!brave-*"}}},
        [2],
    ),
    ("empty label list", {"resource": {"labels": {"prefect.resource.name": []}}}, []),
    (
        "resource id label",
        {"resource": {"labels": {"prefect.resource.id": "prefect.flow-run.*"}}},
        [1, 0],
    ),
    ("related id", {"related": {"id": ["prefect.flow.f1"]}}, [1, 0]),
    ("related id excludes primary", {"related": {"id": ["prefect.flow-run.aaa"]}}, [2]),
    ("related role", {"related": {"role": ["tag"]}}, [0]),
    (
        "resources in roles",
        {"related": {"resources_in_roles": [["compat.owner.1", "owner"]]}},
        [3],
    ),
    (
        "related label",
        {"related": {"labels": {"prefect.resource.name": "etl"}}},
        [1, 0],
    ),
    ("related list is and", {"related": [{"role": ["flow"]}, {"role": ["tag"]}]}, [0]),
    ("any resource id", {"any_resource": {"id": ["prefect.flow-run.aaa"]}}, [2, 1, 0]),
    ("any resource prefix", {"any_resource": {"id_prefix": ["compat."]}}, [3]),
    (
        "any resource label",
        {"any_resource": {"labels": {"prefect.resource.role": "owner"}}},
        [3],
    ),
    ("text include", {"text": {"query": "finished"}}, [1]),
    ("text exclude", {"text": {"query": "-brave"}}, [3, 2]),
    (
        "occurred window",
        {"occurred": {"since": NOW.isoformat(), "until": (NOW + MINUTE).isoformat()}},
        [1, 0],
    ),
]


@pytest.mark.parametrize(
    ("case", "criteria", "expected"), FILTER_CASES, ids=[c[0] for c in FILTER_CASES]
)
async def test_read_events_filter(
    database: Database, case: str, criteria: dict[str, Any], expected: list[int]
) -> None:
    sample = await store(database, sample_events())
    event_filter = EventFilter.model_validate({"occurred": WINDOW, **criteria})

    async with database.read() as connection:
        found = await storage.read_events(connection, event_filter)
        total = await storage.count_events(connection, event_filter)
    in_python = [
        i
        for i in reversed(range(len(sample)))
        if event_matches(event_filter, sample[i])
    ]

    assert [e.id for e in found] == [sample[i].id for i in expected]
    assert total == len(expected)
    assert in_python == expected


async def test_write_events_skips_known_ids(database: Database) -> None:
    sample = sample_events()
    first = await store(database, sample[:2])

    second = await store(database, [sample[1], sample[1], sample[2]])

    assert [e.id for e in first] == [sample[0].id, sample[1].id]
    assert [e.id for e in second] == [sample[2].id]


async def test_read_events_round_trips_fields(database: Database) -> None:
    sample = await store(database, sample_events())
    event_filter = EventFilter.model_validate(
        {"occurred": WINDOW, "id": {"id": [str(sample[1].id)]}}
    )

    async with database.read() as connection:
        (found,) = await storage.read_events(connection, event_filter)

    assert found == sample[1]


async def test_read_events_ascending_with_offset(database: Database) -> None:
    sample = await store(database, sample_events())
    event_filter = EventFilter.model_validate({"occurred": WINDOW, "order": "ASC"})

    async with database.read() as connection:
        page = await storage.read_events(connection, event_filter, limit=2, offset=1)

    assert [e.id for e in page] == [sample[1].id, sample[2].id]


async def test_read_events_distinct_resource(database: Database) -> None:
    sample = await store(database, sample_events())
    event_filter = EventFilter.model_validate(
        {"occurred": WINDOW, "resource": {"distinct": True}}
    )

    async with database.read() as connection:
        found = await storage.read_events(connection, event_filter)
        total = await storage.count_events(connection, event_filter)

    assert [e.id for e in found] == [sample[3].id, sample[2].id, sample[1].id]
    assert total == 3


async def test_count_by_event(database: Database) -> None:
    await store(database, sample_events())
    event_filter = EventFilter.model_validate(
        {"occurred": WINDOW, "event": {"prefix": ["prefect."]}}
    )

    async with database.read() as connection:
        counts = await storage.count_events_by(
            connection, event_filter, Countable.event
        )

    assert [(c.value, c.count) for c in counts] == [
        ("prefect.flow-run.Completed", 1),
        ("prefect.flow-run.Running", 1),
        ("prefect.task-run.Completed", 1),
    ]


async def test_count_by_resource_uses_name(database: Database) -> None:
    await store(database, sample_events())
    event_filter = EventFilter.model_validate({"occurred": WINDOW})

    async with database.read() as connection:
        counts = await storage.count_events_by(
            connection, event_filter, Countable.resource
        )

    assert [(c.value, c.label, c.count) for c in counts][0] == (
        "prefect.flow-run.aaa",
        "brave-otter",
        2,
    )
    assert len(counts) == 3


async def test_count_by_time_fills_empty_buckets(database: Database) -> None:
    await store(database, sample_events())
    since, until = NOW - MINUTE, NOW + 5 * MINUTE - dt.timedelta(microseconds=1)
    event_filter = EventFilter.model_validate(
        {"occurred": {"since": since.isoformat(), "until": until.isoformat()}}
    )

    async with database.read() as connection:
        counts = await storage.count_events_by(
            connection, event_filter, Countable.time, TimeUnit.minute, 1.0
        )

    assert [c.count for c in counts] == [0, 1, 1, 1, 1, 0]
    assert counts[1].start_time == NOW
    assert counts[1].end_time == NOW + MINUTE - dt.timedelta(microseconds=1)


async def test_count_by_day_puts_all_in_one_bucket(database: Database) -> None:
    await store(database, sample_events())
    event_filter = EventFilter.model_validate(
        {
            "occurred": {
                "since": NOW.isoformat(),
                "until": (NOW + dt.timedelta(hours=1)).isoformat(),
            }
        }
    )

    async with database.read() as connection:
        counts = await storage.count_events_by(connection, event_filter, Countable.day)

    assert [c.count for c in counts] == [4]
    assert counts[0].start_time == NOW.replace(hour=0)


async def test_count_by_time_rejects_too_many_buckets(database: Database) -> None:
    event_filter = EventFilter.model_validate({"occurred": WINDOW})

    async with database.read() as connection:
        with pytest.raises(InvalidRequest, match="at most 1000"):
            await storage.count_events_by(
                connection, event_filter, Countable.time, TimeUnit.second, 1.0
            )


async def test_count_by_resource_merges_renamed_resource(database: Database) -> None:
    bodies = [
        event(
            "compat.renamed", "compat.widget.9", NOW, **{"prefect.resource.name": "old"}
        ),
        event(
            "compat.renamed",
            "compat.widget.9",
            NOW + MINUTE,
            **{"prefect.resource.name": "new"},
        ),
    ]
    await store(database, [Event.model_validate(b).receive() for b in bodies])
    event_filter = EventFilter.model_validate({"occurred": WINDOW})

    async with database.read() as connection:
        (count,) = await storage.count_events_by(
            connection, event_filter, Countable.resource
        )

    assert (count.value, count.label, count.count) == ("compat.widget.9", "new", 2)
    assert count.start_time == NOW
    assert count.end_time == NOW + MINUTE
