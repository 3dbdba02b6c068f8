"""API tests for `/work_pools`, their queues and workers, and `/work_queues`."""

from __future__ import annotations

import uuid

import httpx

PROCESS_TEMPLATE = {
    "job_configuration": {"command": "{{ command }}", "env": "{{ env }}"},
    "variables": {
        "type": "object",
        "properties": {
            "command": {"type": "string", "default": "python run.py"},
            "env": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
}


async def create_pool(client: httpx.AsyncClient, name: str, **fields: object) -> dict:
    response = await client.post(
        "/work_pools/", json={"name": name, "type": "process", **fields}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_pool_makes_default_queue(client: httpx.AsyncClient) -> None:
    pool = await create_pool(client, "alpha", base_job_template=PROCESS_TEMPLATE)

    queues = await client.post("/work_pools/alpha/queues/filter", json={})

    assert pool["status"] == "NOT_READY"
    assert pool["base_job_template"] == PROCESS_TEMPLATE
    assert pool["active_slots"] is None
    assert [q["name"] for q in queues.json()] == ["default"]
    assert queues.json()[0]["id"] == pool["default_queue_id"]
    assert queues.json()[0]["priority"] == 1
    assert queues.json()[0]["work_pool_name"] == "alpha"


async def test_create_pool_twice_returns_409(client: httpx.AsyncClient) -> None:
    await create_pool(client, "twice")

    again = await client.post("/work_pools/", json={"name": "twice"})

    assert again.status_code == 409
    assert "twice" in again.json()["detail"]


async def test_create_pool_with_reserved_name_returns_403(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/work_pools/", json={"name": "Prefect-managed"})

    assert response.status_code == 403


async def test_create_pool_rejects_undeclared_template_variable(
    client: httpx.AsyncClient,
) -> None:
    template = {
        "job_configuration": {"command": "{{ command }}", "image": "{{ image }}"},
        "variables": {"properties": {"command": {"type": "string"}}},
    }

    response = await client.post(
        "/work_pools/", json={"name": "bad", "base_job_template": template}
    )

    assert response.status_code == 422
    assert response.json()["exception_detail"][0]["loc"] == [
        "body",
        "base_job_template",
    ]
    assert "image" in response.json()["detail"]


async def test_create_pool_rejects_invalid_default(client: httpx.AsyncClient) -> None:
    template = {
        "job_configuration": {"count": "{{ count }}"},
        "variables": {"properties": {"count": {"type": "integer", "default": "many"}}},
    }

    response = await client.post(
        "/work_pools/", json={"name": "bad", "base_job_template": template}
    )

    assert response.status_code == 422
    assert "count" in response.json()["detail"]


async def test_create_pool_rejects_slash_in_name(client: httpx.AsyncClient) -> None:
    response = await client.post("/work_pools/", json={"name": "a/b"})

    assert response.status_code == 422


async def test_read_missing_pool_returns_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/work_pools/nowhere")

    assert response.status_code == 404
    assert response.json()["detail"] == 'Work pool "nowhere" not found.'


async def test_pause_and_resume_pool_sets_status(client: httpx.AsyncClient) -> None:
    await create_pool(client, "pausing")

    paused = await client.patch("/work_pools/pausing", json={"is_paused": True})
    after_pause = (await client.get("/work_pools/pausing")).json()
    await client.patch("/work_pools/pausing", json={"is_paused": False})
    after_resume = (await client.get("/work_pools/pausing")).json()

    assert paused.status_code == 204
    assert after_pause["is_paused"] is True
    assert after_pause["status"] == "PAUSED"
    assert after_resume["is_paused"] is False
    assert after_resume["status"] == "NOT_READY"


async def test_update_pool_concurrency_limit_shows_active_slots(
    client: httpx.AsyncClient,
) -> None:
    await create_pool(client, "limited")

    await client.patch("/work_pools/limited", json={"concurrency_limit": 3})
    pool = (await client.get("/work_pools/limited")).json()

    assert pool["concurrency_limit"] == 3
    assert pool["active_slots"] == 0


async def test_update_missing_pool_returns_404(client: httpx.AsyncClient) -> None:
    response = await client.patch("/work_pools/nowhere", json={"description": "x"})

    assert response.status_code == 404


async def test_filter_and_count_pools(client: httpx.AsyncClient) -> None:
    await create_pool(client, "p1")
    await create_pool(client, "p2")
    await client.post("/work_pools/", json={"name": "k1", "type": "kubernetes"})

    by_type = await client.post(
        "/work_pools/filter", json={"work_pools": {"type": {"any_": ["process"]}}}
    )
    counted = await client.post(
        "/work_pools/count", json={"work_pools": {"name": {"any_": ["k1"]}}}
    )
    paged = await client.post("/work_pools/filter", json={"limit": 1, "offset": 1})

    assert [p["name"] for p in by_type.json()] == ["p1", "p2"]
    assert counted.json() == 1
    assert [p["name"] for p in paged.json()] == ["p1"]


async def test_delete_pool_then_404(client: httpx.AsyncClient) -> None:
    await create_pool(client, "gone")

    deleted = await client.delete("/work_pools/gone")
    again = await client.delete("/work_pools/gone")
    queue = await client.get("/work_pools/gone/queues/default")

    assert deleted.status_code == 204
    assert again.status_code == 404
    assert queue.status_code == 404


async def test_pool_queue_crud_and_priorities(client: httpx.AsyncClient) -> None:
    await create_pool(client, "ordered")

    high = await client.post(
        "/work_pools/ordered/queues", json={"name": "high", "priority": 1}
    )
    low = await client.post("/work_pools/ordered/queues", json={"name": "low"})
    duplicate = await client.post("/work_pools/ordered/queues", json={"name": "low"})
    listed = await client.post("/work_pools/ordered/queues/filter", json={})

    assert high.status_code == 201
    assert low.json()["priority"] == 3
    assert duplicate.status_code == 409
    assert [(q["name"], q["priority"]) for q in listed.json()] == [
        ("high", 1),
        ("default", 2),
        ("low", 3),
    ]

    patched = await client.patch(
        "/work_pools/ordered/queues/low", json={"priority": 1, "concurrency_limit": 2}
    )
    relisted = await client.post("/work_pools/ordered/queues/filter", json={})
    low_read = await client.get("/work_pools/ordered/queues/low")

    assert patched.status_code == 204
    assert [(q["name"], q["priority"]) for q in relisted.json()] == [
        ("low", 1),
        ("high", 2),
        ("default", 3),
    ]
    assert low_read.json()["active_slots"] == 0

    deleted = await client.delete("/work_pools/ordered/queues/low")
    missing = await client.get("/work_pools/ordered/queues/low")
    default_delete = await client.delete("/work_pools/ordered/queues/default")

    assert deleted.status_code == 204
    assert missing.status_code == 404
    assert default_delete.status_code == 409


async def test_pool_queue_filter_by_name_prefix(client: httpx.AsyncClient) -> None:
    await create_pool(client, "named")
    await client.post("/work_pools/named/queues", json={"name": "Marvin-robot"})
    await client.post("/work_pools/named/queues", json={"name": "sad-marvin"})

    response = await client.post(
        "/work_pools/named/queues/filter",
        json={"work_queues": {"name": {"startswith_": ["marvin"]}}},
    )

    assert [q["name"] for q in response.json()] == ["Marvin-robot"]


async def test_pause_queue_sets_status(client: httpx.AsyncClient) -> None:
    await create_pool(client, "qpause")

    await client.patch("/work_pools/qpause/queues/default", json={"is_paused": True})
    paused = (await client.get("/work_pools/qpause/queues/default")).json()
    await client.patch("/work_pools/qpause/queues/default", json={"is_paused": False})
    resumed = (await client.get("/work_pools/qpause/queues/default")).json()

    assert paused["status"] == "PAUSED"
    assert resumed["status"] == "NOT_READY"


async def test_worker_heartbeat_marks_pool_ready(client: httpx.AsyncClient) -> None:
    await create_pool(client, "beating")

    beat = await client.post(
        "/work_pools/beating/workers/heartbeat",
        json={"name": "w1", "heartbeat_interval_seconds": 30},
    )
    again = await client.post(
        "/work_pools/beating/workers/heartbeat", json={"name": "w1"}
    )
    listed = await client.post("/work_pools/beating/workers/filter", json={})
    pool = (await client.get("/work_pools/beating")).json()

    assert beat.status_code == 204
    assert again.status_code == 204
    assert len(listed.json()) == 1
    assert listed.json()[0]["status"] == "ONLINE"
    assert listed.json()[0]["heartbeat_interval_seconds"] == 30
    assert pool["status"] == "READY"


async def test_worker_heartbeat_missing_pool_returns_404(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/work_pools/nowhere/workers/heartbeat", json={"name": "w"}
    )

    assert response.status_code == 404


async def test_worker_heartbeat_requires_name(client: httpx.AsyncClient) -> None:
    await create_pool(client, "nameless")

    response = await client.post("/work_pools/nameless/workers/heartbeat", json={})

    assert response.status_code == 422


async def test_worker_filter_by_status_and_delete(client: httpx.AsyncClient) -> None:
    await create_pool(client, "crew")
    await client.post("/work_pools/crew/workers/heartbeat", json={"name": "w1"})

    offline = await client.post(
        "/work_pools/crew/workers/filter",
        json={"workers": {"status": {"any_": ["OFFLINE"]}}},
    )
    deleted = await client.delete("/work_pools/crew/workers/w1")
    deleted_again = await client.delete("/work_pools/crew/workers/w1")

    assert offline.json() == []
    assert deleted.status_code == 204
    assert deleted_again.status_code == 404


async def test_classic_work_queue_crud(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/work_queues/", json={"name": "legacy", "concurrency_limit": 1}
    )
    queue = created.json()

    by_id = await client.get(f"/work_queues/{queue['id']}")
    by_name = await client.get("/work_queues/name/legacy")
    duplicate = await client.post("/work_queues/", json={"name": "legacy"})
    patched = await client.patch(
        f"/work_queues/{queue['id']}", json={"is_paused": True}
    )
    paused = await client.get(f"/work_queues/{queue['id']}")
    status = await client.get(f"/work_queues/{queue['id']}/status")
    concurrency = await client.post(
        f"/work_queues/{queue['id']}/concurrency_status", json={}
    )
    filtered = await client.post(
        "/work_queues/filter", json={"work_queues": {"name": {"any_": ["legacy"]}}}
    )
    deleted = await client.delete(f"/work_queues/{queue['id']}")
    missing = await client.get(f"/work_queues/{queue['id']}")

    assert created.status_code == 201
    assert queue["work_pool_name"] == "default-agent-pool"
    assert queue["active_slots"] == 0
    assert by_id.json()["name"] == "legacy"
    assert by_name.json()["id"] == queue["id"]
    assert duplicate.status_code == 409
    assert patched.status_code == 204
    assert paused.json()["status"] == "PAUSED"
    assert status.json()["healthy"] is False
    assert status.json()["late_runs_count"] == 0
    assert concurrency.json()["active_slots"] == 0
    assert concurrency.json()["concurrency_limit"] == 1
    assert [q["id"] for q in filtered.json()] == [queue["id"]]
    assert deleted.status_code == 204
    assert missing.status_code == 404


async def test_classic_work_queue_unknown_id_returns_404(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"/work_queues/{uuid.uuid4()}")

    assert response.status_code == 404


async def test_pool_concurrency_status_lists_queues(client: httpx.AsyncClient) -> None:
    await create_pool(client, "status", concurrency_limit=4)

    response = await client.post("/work_pools/status/concurrency_status", json={})
    body = response.json()

    assert response.status_code == 200
    assert body["concurrency_limit"] == 4
    assert body["active_slots"] == 0
    assert body["count"] == 1
    assert [q["queue_name"] for q in body["queues"]] == ["default"]


async def test_flow_run_created_for_pool_gets_queue(client: httpx.AsyncClient) -> None:
    await create_pool(client, "runs")
    await client.post("/work_pools/runs/queues", json={"name": "fast"})
    flow = (await client.post("/flows/", json={"name": "f"})).json()

    default_run = await client.post(
        "/flow_runs/", json={"flow_id": flow["id"], "work_pool_name": "runs"}
    )
    fast_run = await client.post(
        "/flow_runs/",
        json={
            "flow_id": flow["id"],
            "work_pool_name": "runs",
            "work_queue_name": "fast",
        },
    )
    missing_queue = await client.post(
        "/flow_runs/",
        json={
            "flow_id": flow["id"],
            "work_pool_name": "runs",
            "work_queue_name": "nope",
        },
    )

    assert default_run.json()["work_queue_name"] == "default"
    assert fast_run.json()["work_queue_name"] == "fast"
    assert missing_queue.status_code == 404


async def test_get_scheduled_runs_records_poll(
    client: httpx.AsyncClient,
) -> None:
    await create_pool(client, "polled")
    flow = (await client.post("/flows/", json={"name": "g"})).json()
    run = await client.post(
        "/flow_runs/",
        json={
            "flow_id": flow["id"],
            "work_pool_name": "polled",
            "state": {"type": "SCHEDULED"},
        },
    )

    response = await client.post("/work_pools/polled/get_scheduled_flow_runs", json={})
    queue = (await client.get("/work_pools/polled/queues/default")).json()
    unknown_queue = await client.post(
        "/work_pools/polled/get_scheduled_flow_runs",
        json={"work_queue_names": ["nope"]},
    )

    assert response.status_code == 200
    assert [r["flow_run"]["id"] for r in response.json()] == [run.json()["id"]]
    assert response.json()[0]["work_queue_id"] == queue["id"]
    assert queue["last_polled"] is not None
    assert queue["status"] == "READY"
    assert unknown_queue.status_code == 404


async def test_poll_serves_parameters_past_64_bits(client: httpx.AsyncClient) -> None:
    # On PostgreSQL orjson cannot encode the decoded integer, so the poll goes
    # through the models. On SQLite the stored JSON text is passed through.
    await create_pool(client, "huge")
    flow = (await client.post("/flows/", json={"name": "h"})).json()
    run = await client.post(
        "/flow_runs/",
        json={
            "flow_id": flow["id"],
            "work_pool_name": "huge",
            "parameters": {"n": 2**70},
            "state": {"type": "SCHEDULED"},
        },
    )

    response = await client.post("/work_pools/huge/get_scheduled_flow_runs", json={})

    assert response.status_code == 200
    assert [r["flow_run"]["id"] for r in response.json()] == [run.json()["id"]]
    assert response.json()[0]["flow_run"]["parameters"] == {"n": 2**70}
