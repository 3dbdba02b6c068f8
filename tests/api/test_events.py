"""API tests for `/events`: ingestion over HTTP and websocket, queries, paging and the stream."""

from __future__ import annotations

import datetime as dt
import time
import uuid
import warnings
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.10 prefers `httpx2` for its test client; `httpx` still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from podium.api import create_app
from podium.settings import Settings
from podium.storage.database import Database
from podium.storage.tables import flow_runs, flows, task_runs

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def make_event(
    name: str = "compat.thing.happened", offset: float = 0, **fields: Any
) -> dict[str, Any]:
    return {
        "occurred": (NOW + dt.timedelta(seconds=offset)).isoformat(),
        "event": name,
        "resource": {"prefect.resource.id": "compat.widget.1"},
        "related": [],
        "payload": {},
        "id": str(uuid.uuid4()),
        "follows": None,
        **fields,
    }


def window_filter(**criteria: Any) -> dict[str, Any]:
    since = NOW - dt.timedelta(hours=1)
    until = NOW + dt.timedelta(hours=1)
    return {
        "occurred": {"since": since.isoformat(), "until": until.isoformat()},
        **criteria,
    }


def wait_until(condition: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def sync_client(database: Database, settings: Settings) -> Any:
    """A Starlette test client, for the websocket routes."""
    with TestClient(
        create_app(settings, migrate_on_start=False), base_url="http://podium.test"
    ) as client:
        yield client


async def test_post_events_then_filter(client: httpx.AsyncClient) -> None:
    events = [make_event("compat.posted", offset=i) for i in range(3)]

    posted = await client.post("/events", json=events)
    found = await client.post(
        "/events/filter",
        json={"filter": window_filter(event={"name": ["compat.posted"]})},
    )

    assert posted.status_code == 204
    assert found.status_code == 200
    assert [e["id"] for e in found.json()["events"]] == [
        e["id"] for e in reversed(events)
    ]
    assert found.json()["total"] == 3
    assert found.json()["next_page"] is None
    assert found.json()["events"][0]["received"]


async def test_post_events_twice_stores_once(client: httpx.AsyncClient) -> None:
    body = make_event("compat.twice")

    await client.post("/events", json=[body])
    await client.post("/events", json=[body])
    found = await client.post(
        "/events/filter",
        json={"filter": window_filter(event={"name": ["compat.twice"]})},
    )

    assert found.json()["total"] == 1


async def test_post_events_rejects_missing_resource_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/events", json=[make_event(resource={"name": "x"})])

    assert response.status_code == 422
    assert "prefect.resource.id" in response.json()["detail"]


async def test_filter_pages_through_next_page(client: httpx.AsyncClient) -> None:
    events = [make_event("compat.paged", offset=i) for i in range(5)]
    await client.post("/events", json=events)
    flt = window_filter(event={"name": ["compat.paged"]})

    first = (
        await client.post("/events/filter", json={"filter": flt, "limit": 2})
    ).json()
    second = (await client.get(first["next_page"])).json()
    third = (await client.get(second["next_page"])).json()

    assert first["total"] == 5
    assert first["next_page"].startswith(
        "http://podium.test/api/events/filter/next?page-token="
    )
    ids = [e["id"] for page in (first, second, third) for e in page["events"]]
    assert ids == [e["id"] for e in reversed(events)]
    assert third["next_page"] is None


async def test_filter_next_rejects_bad_token(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/events/filter/next", params={"page-token": "not-a-token"}
    )

    assert response.status_code == 403
    assert "page token" in response.json()["detail"]


async def test_filter_rejects_limit_over_50(client: httpx.AsyncClient) -> None:
    response = await client.post("/events/filter", json={"limit": 51})

    assert response.status_code == 422
    assert response.json()["exception_detail"][0]["loc"] == ["body", "limit"]


async def test_filter_rejects_unknown_criterion(client: httpx.AsyncClient) -> None:
    response = await client.post("/events/filter", json={"filter": {"colour": {}}})

    assert response.status_code == 422


async def test_count_by_event(client: httpx.AsyncClient) -> None:
    await client.post("/events", json=[make_event("compat.counted") for _ in range(3)])

    response = await client.post(
        "/events/count-by/event",
        json={"filter": window_filter(event={"prefix": ["compat.counted"]})},
    )

    assert response.status_code == 200
    assert [(c["value"], c["label"], c["count"]) for c in response.json()] == [
        ("compat.counted", "compat.counted", 3)
    ]


async def test_count_by_time_with_unit(client: httpx.AsyncClient) -> None:
    await client.post("/events", json=[make_event("compat.timed")])

    response = await client.post(
        "/events/count-by/time",
        json={
            "filter": window_filter(event={"name": ["compat.timed"]}),
            "time_unit": "hour",
            "time_interval": 1,
        },
    )

    assert response.status_code == 200
    assert sum(c["count"] for c in response.json()) == 1


async def test_count_by_rejects_too_many_buckets(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/events/count-by/time", json={"filter": window_filter(), "time_unit": "second"}
    )

    assert response.status_code == 422
    assert "buckets" in response.json()["detail"]


async def test_count_by_rejects_unknown_countable(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/events/count-by/colour", json={"filter": window_filter()}
    )

    assert response.status_code == 422


def test_events_in_handshake_and_ingest(sync_client: TestClient) -> None:
    events = [make_event("compat.socket", offset=i) for i in range(20)]

    with sync_client.websocket_connect(
        "/api/events/in", subprotocols=["prefect"]
    ) as socket:
        assert socket.accepted_subprotocol == "prefect"
        socket.send_json({"type": "auth", "token": None})
        assert socket.receive_json() == {"type": "auth_success"}
        for body in events:
            socket.send_json(body)
        socket.send_text("{not json")

    flt = {"filter": window_filter(event={"name": ["compat.socket"]}), "limit": 50}
    total = wait_until(
        lambda: sync_client.post("/api/events/filter", json=flt).json()["total"] == 20
    )
    assert total


def test_events_in_rejects_missing_auth(sync_client: TestClient) -> None:
    with sync_client.websocket_connect(
        "/api/events/in", subprotocols=["prefect"]
    ) as socket:
        socket.send_json({"type": "hello"})
        message = socket.receive()

    assert message["type"] == "websocket.close"
    assert message["code"] == 1008


def test_events_in_records_task_runs(sync_client: TestClient) -> None:
    flow_run_id, task_run_id = _insert_flow_run(sync_client), uuid.uuid4()
    pending_id, running_id = uuid.uuid4(), uuid.uuid4()
    bodies = [
        _task_run_event(task_run_id, flow_run_id, "PENDING", pending_id, None, 0),
        _task_run_event(task_run_id, flow_run_id, "RUNNING", running_id, pending_id, 1),
    ]

    with sync_client.websocket_connect(
        "/api/events/in", subprotocols=["prefect"]
    ) as socket:
        socket.send_json({"type": "auth", "token": None})
        socket.receive_json()
        for body in bodies:
            socket.send_json(body)

    reached_running = wait_until(
        lambda: _task_run_state(sync_client, task_run_id) == "RUNNING"
    )
    assert reached_running


def _task_run_state(client: TestClient, task_run_id: uuid.UUID) -> str | None:
    async def read() -> str | None:
        async with client.app.state.database.read() as connection:
            query = sa.select(task_runs.c.state_type).where(
                task_runs.c.id == task_run_id
            )
            return (await connection.execute(query)).scalar()

    return client.portal.call(read)


def _insert_flow_run(client: TestClient) -> uuid.UUID:
    flow_id, flow_run_id = uuid.uuid4(), uuid.uuid4()

    async def insert() -> None:
        async with client.app.state.database.transaction() as connection:
            await connection.execute(
                sa.insert(flows).values(id=flow_id, name=f"flow-{flow_id}")
            )
            await connection.execute(
                sa.insert(flow_runs).values(
                    id=flow_run_id, name="brave-otter", flow_id=flow_id
                )
            )

    client.portal.call(insert)
    return flow_run_id


def _task_run_event(
    task_run_id: uuid.UUID,
    flow_run_id: uuid.UUID,
    state_type: str,
    event_id: uuid.UUID,
    follows: uuid.UUID | None,
    offset: float,
) -> dict[str, Any]:
    return make_event(
        f"prefect.task-run.{state_type.capitalize()}",
        offset=offset,
        id=str(event_id),
        follows=str(follows) if follows else None,
        resource={
            "prefect.resource.id": f"prefect.task-run.{task_run_id}",
            "prefect.orchestration": "client",
        },
        related=[
            {
                "prefect.resource.id": f"prefect.flow-run.{flow_run_id}",
                "prefect.resource.role": "flow-run",
            }
        ],
        payload={
            "validated_state": {
                "type": state_type,
                "name": state_type.capitalize(),
                "state_details": {},
            },
            "task_run": {
                "name": "work-1",
                "task_key": "work-abc",
                "dynamic_key": "0",
                "run_count": 1,
            },
        },
    )


def test_events_out_backfills_then_streams(sync_client: TestClient) -> None:
    old = make_event("compat.streamed", offset=-1)
    sync_client.post("/api/events", json=[old])
    flt = window_filter(event={"name": ["compat.streamed"]})

    with sync_client.websocket_connect(
        "/api/events/out", subprotocols=["prefect"]
    ) as socket:
        socket.send_json({"type": "auth", "token": None})
        assert socket.receive_json() == {"type": "auth_success"}
        socket.send_json({"type": "filter", "filter": flt})
        replayed = socket.receive_json()
        new = make_event("compat.streamed")
        sync_client.post("/api/events", json=[make_event("compat.other"), new])
        live = socket.receive_json()

    assert replayed == {
        "type": "event",
        "event": {**replayed["event"], "id": old["id"]},
    }
    assert live["type"] == "event"
    assert live["event"]["id"] == new["id"]


def test_events_out_rejects_bad_filter(sync_client: TestClient) -> None:
    with sync_client.websocket_connect(
        "/api/events/out", subprotocols=["prefect"]
    ) as socket:
        socket.send_json({"type": "auth", "token": None})
        socket.receive_json()
        socket.send_json({"type": "filter", "filter": {"colour": 1}})
        message = socket.receive()

    assert message["type"] == "websocket.close"
    assert message["code"] == 1002
