"""API tests for `/logs` and `/flow_runs/{id}/logs/download`."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from podium.api import create_app
from podium.api.routes.logs import log_stream
from podium.settings import Settings
from podium.storage.database import Database
from podium.storage.tables import flow_runs, flows

T0 = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def log_body(
    message: str, seconds: float = 0, level: int = 20, **fields: object
) -> dict:
    return {
        "name": "podium.test",
        "level": level,
        "message": message,
        "timestamp": (T0 + dt.timedelta(seconds=seconds)).isoformat(),
        **fields,
    }


async def filter_logs(client: httpx.AsyncClient, **body: object) -> list[dict]:
    response = await client.post("/logs/filter", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def messages(client: httpx.AsyncClient, **body: object) -> list[str]:
    return [log["message"] for log in await filter_logs(client, **body)]


async def test_create_logs_returns_201_and_null(client: httpx.AsyncClient) -> None:
    response = await client.post("/logs/", json=[log_body("one"), log_body("two", 1)])

    assert response.status_code == 201
    assert response.content == b"null"


async def test_create_logs_accepts_empty_batch(client: httpx.AsyncClient) -> None:
    response = await client.post("/logs/", json=[])

    assert response.status_code == 201
    assert await filter_logs(client) == []


async def test_created_log_reads_back_every_field(client: httpx.AsyncClient) -> None:
    flow_run_id, task_run_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = log_body("hello", flow_run_id=flow_run_id, task_run_id=task_run_id)
    await client.post("/logs/", json=[body])

    [log] = await filter_logs(client)

    assert log["name"] == "podium.test"
    assert log["level"] == 20
    assert log["message"] == "hello"
    assert dt.datetime.fromisoformat(log["timestamp"]) == T0
    assert log["flow_run_id"] == flow_run_id
    assert log["task_run_id"] == task_run_id
    assert uuid.UUID(log["id"]).version == 7
    assert log["created"] is not None
    assert log["updated"] is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("level", "INFO"),
        ("level", 2.5),
        ("level", -1),
        ("level", 40000),
        ("timestamp", "yesterday"),
        ("timestamp", "2026-13-01T00:00:00Z"),
        ("flow_run_id", "not-a-uuid"),
    ],
)
async def test_create_logs_rejects_bad_field(
    client: httpx.AsyncClient, field: str, value: object
) -> None:
    body = log_body("bad")
    body[field] = value

    response = await client.post("/logs/", json=[log_body("good"), body])

    assert response.status_code == 422
    assert response.json()["exception_detail"][0]["loc"] == ["body", 1, field]
    assert await filter_logs(client) == []


async def test_create_logs_rejects_unknown_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/logs/", json=[log_body("x", extra=1)])

    assert response.status_code == 422


async def test_create_logs_rejects_object_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/logs/", json=log_body("not in a list"))

    assert response.status_code == 422


async def test_create_logs_drops_nul_characters(client: httpx.AsyncClient) -> None:
    await client.post("/logs/", json=[log_body("a\x00b", name="n\x00ame")])

    [log] = await filter_logs(client)

    assert log["message"] == "ab"
    assert log["name"] == "name"


async def test_naive_timestamp_is_read_as_utc(client: httpx.AsyncClient) -> None:
    await client.post(
        "/logs/", json=[log_body("naive", timestamp="2026-01-02T03:04:05")]
    )

    [log] = await filter_logs(client)

    assert dt.datetime.fromisoformat(log["timestamp"]) == T0


async def test_filter_logs_by_level(client: httpx.AsyncClient) -> None:
    batch = [
        log_body(f"level-{level}", i, level) for i, level in enumerate((10, 20, 30, 40))
    ]
    await client.post("/logs/", json=batch)

    at_least = await messages(client, logs={"level": {"ge_": 30}})
    at_most = await messages(client, logs={"level": {"le_": 20}})
    between = await messages(client, logs={"level": {"ge_": 20, "le_": 30}})

    assert at_least == ["level-30", "level-40"]
    assert at_most == ["level-10", "level-20"]
    assert between == ["level-20", "level-30"]


async def test_filter_logs_by_timestamp_window(client: httpx.AsyncClient) -> None:
    await client.post("/logs/", json=[log_body(f"s{i}", i) for i in range(4)])
    window = {
        "after_": (T0 + dt.timedelta(milliseconds=500)).isoformat(),
        "before_": (T0 + dt.timedelta(milliseconds=2500)).isoformat(),
    }

    inside = await messages(client, logs={"timestamp": window})
    inclusive = await messages(
        client,
        logs={"timestamp": {"after_": T0.isoformat(), "before_": T0.isoformat()}},
    )

    assert inside == ["s1", "s2"]
    assert inclusive == ["s0"]


async def test_filter_logs_by_run_ids(client: httpx.AsyncClient) -> None:
    run_a, run_b, task = (str(uuid.uuid4()) for _ in range(3))
    await client.post(
        "/logs/",
        json=[
            log_body("flow-a", 0, flow_run_id=run_a),
            log_body("task-a", 1, flow_run_id=run_a, task_run_id=task),
            log_body("flow-b", 2, flow_run_id=run_b),
            log_body("orphan", 3),
        ],
    )

    by_flow_run = await messages(client, logs={"flow_run_id": {"any_": [run_a]}})
    by_task_run = await messages(client, logs={"task_run_id": {"any_": [task]}})
    without_task = await messages(
        client,
        logs={
            "flow_run_id": {"any_": [run_a, run_b]},
            "task_run_id": {"is_null_": True},
        },
    )
    with_task = await messages(client, logs={"task_run_id": {"is_null_": False}})

    assert by_flow_run == ["flow-a", "task-a"]
    assert by_task_run == ["task-a"]
    assert without_task == ["flow-a", "flow-b"]
    assert with_task == ["task-a"]


async def test_filter_logs_or_operator(client: httpx.AsyncClient) -> None:
    await client.post("/logs/", json=[log_body("low", 0, 10), log_body("high", 1, 50)])

    either = await messages(
        client,
        logs={
            "operator": "or_",
            "level": {"ge_": 50},
            "timestamp": {"before_": T0.isoformat()},
        },
    )

    assert either == ["low", "high"]


async def test_filter_logs_by_text(client: httpx.AsyncClient) -> None:
    await client.post(
        "/logs/",
        json=[
            log_body("Connection TIMEOUT on db", 0),
            log_body("connection refused", 1),
            log_body("debug: retry 50%", 2),
            log_body("all good", 3, name="worker.error"),
        ],
    )

    async def search(query: str) -> list[str]:
        return await messages(client, logs={"text": {"query": query}})

    assert await search("timeout") == ["Connection TIMEOUT on db"]
    assert await search("timeout refused") == [
        "Connection TIMEOUT on db",
        "connection refused",
    ]
    assert await search("connection -refused") == ["Connection TIMEOUT on db"]
    assert await search('"connection refused"') == ["connection refused"]
    assert await search("+connection +db") == ["Connection TIMEOUT on db"]
    assert await search("50%") == ["debug: retry 50%"]
    assert await search("error") == ["all good"]
    assert await search("   ") == await search("")


async def test_filter_logs_rejects_long_text_query(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/logs/filter", json={"logs": {"text": {"query": "x" * 201}}}
    )

    assert response.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"logs": {"level": {"ge_": "high"}}},
        {"logs": {"timestamp": {"after_": "soon"}}},
        {"logs": {"level": {"gt_": 10}}},
        {"sort": "LEVEL_ASC"},
        {"limit": 201},
        {"offset": -1},
    ],
)
async def test_filter_logs_rejects_bad_body(
    client: httpx.AsyncClient, body: dict
) -> None:
    response = await client.post("/logs/filter", json=body)

    assert response.status_code == 422


async def test_filter_logs_sorts_and_pages(client: httpx.AsyncClient) -> None:
    await client.post("/logs/", json=[log_body(f"m{i}", i % 3) for i in range(6)])

    ascending = await messages(client, sort="TIMESTAMP_ASC")
    descending = await messages(client, sort="TIMESTAMP_DESC")
    pages = [await messages(client, limit=2, offset=offset) for offset in (0, 2, 4)]

    assert ascending == ["m0", "m3", "m1", "m4", "m2", "m5"]
    assert descending == list(reversed(ascending))
    assert [m for page in pages for m in page] == ascending


async def test_batch_keeps_order_on_equal_timestamps(client: httpx.AsyncClient) -> None:
    await client.post("/logs/", json=[log_body(f"same-{i}") for i in range(50)])

    assert await messages(client) == [f"same-{i}" for i in range(50)]


async def test_filter_logs_default_limit_is_200(client: httpx.AsyncClient) -> None:
    await client.post("/logs/", json=[log_body(f"bulk-{i}", i) for i in range(250)])

    assert len(await filter_logs(client)) == 200


async def test_large_batch_is_stored(client: httpx.AsyncClient) -> None:
    # 5000 rows of 9 columns would pass the 32,767 bound parameters that one
    # multi-row VALUES statement can carry on PostgreSQL.
    batch = [log_body(f"big-{i}", i / 1000) for i in range(5000)]

    response = await client.post("/logs/", json=batch)
    last = await messages(client, sort="TIMESTAMP_DESC", limit=1)

    assert response.status_code == 201
    assert last == ["big-4999"]


async def insert_flow_run(database: Database, name: str) -> uuid.UUID:
    flow_id, flow_run_id = uuid.uuid4(), uuid.uuid4()
    async with database.transaction() as connection:
        await connection.execute(
            sa.insert(flows).values(id=flow_id, name=f"flow-{name}")
        )
        await connection.execute(
            sa.insert(flow_runs).values(id=flow_run_id, name=name, flow_id=flow_id)
        )
    return flow_run_id


async def test_download_logs_returns_csv(
    client: httpx.AsyncClient, database: Database
) -> None:
    run_id = await insert_flow_run(database, "brave-otter")
    task_id = str(uuid.uuid4())
    await client.post(
        "/logs/",
        json=[
            log_body(
                "second, with comma",
                1,
                30,
                flow_run_id=str(run_id),
                task_run_id=task_id,
            ),
            log_body("first", 0, flow_run_id=str(run_id)),
            log_body("other run", 0, flow_run_id=str(uuid.uuid4())),
        ],
    )

    response = await client.get(f"/flow_runs/{run_id}/logs/download")
    rows = list(csv.reader(io.StringIO(response.text)))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "brave-otter-logs.csv" in response.headers["content-disposition"]
    assert rows[0] == ["timestamp", "level", "flow_run_id", "task_run_id", "message"]
    assert rows[1] == [T0.isoformat(), "20", str(run_id), "", "first"]
    assert rows[2][1:] == ["30", str(run_id), task_id, "second, with comma"]
    assert len(rows) == 3


async def test_download_logs_of_unknown_run_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/flow_runs/{uuid.uuid4()}/logs/download")

    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


_served_apps: dict[str, FastAPI] = {}


@pytest.fixture
async def live_api(settings: Settings, database: Database) -> AsyncIterator[str]:
    """The base URL of an app served by uvicorn on a free port, in this loop."""
    app = create_app(settings, migrate_on_start=False)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"127.0.0.1:{port}/api"
    _served_apps[url] = app
    try:
        yield url
    finally:
        del _served_apps[url]
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


async def test_logs_out_streams_matching_logs(live_api: str) -> None:
    run_id = str(uuid.uuid4())
    async with connect(
        f"ws://{live_api}/logs/out", subprotocols=[Subprotocol("prefect")]
    ) as socket:
        await socket.send(json.dumps({"type": "auth", "token": None}))
        auth = json.loads(await socket.recv())
        await socket.send(
            json.dumps(
                {"type": "filter", "filter": {"flow_run_id": {"any_": [run_id]}}}
            )
        )
        # The server sends no reply to the filter; wait until it subscribes.
        stream = log_stream(_served_apps[live_api])
        deadline = time.monotonic() + 5
        while not stream.subscriber_count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        # A stray message from the client must not end the stream.
        await socket.send(json.dumps({"type": "noise"}))
        async with httpx.AsyncClient(base_url=f"http://{live_api}") as http:
            response = await http.post(
                "/logs/",
                json=[
                    log_body("elsewhere", 0),
                    log_body("wanted", 1, flow_run_id=run_id),
                ],
            )
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))

    assert auth == {"type": "auth_success"}
    assert response.status_code == 201
    assert message["type"] == "log"
    assert message["log"]["message"] == "wanted"
    assert message["log"]["flow_run_id"] == run_id


async def test_logs_out_rejects_bad_filter(live_api: str) -> None:
    async with connect(f"ws://{live_api}/logs/out") as socket:
        await socket.send(
            json.dumps({"type": "filter", "filter": {"level": {"ge_": "loud"}}})
        )
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), timeout=5)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1002
    assert "Invalid filter" in closed.value.rcvd.reason
