"""API tests for `/task_workers`."""

import httpx


async def test_task_workers_filter_empty(client: httpx.AsyncClient) -> None:
    unfiltered = await client.post("/task_workers/filter", json={})
    by_key = await client.post(
        "/task_workers/filter", json={"task_worker_filter": {"task_keys": ["k"]}}
    )

    assert unfiltered.status_code == 200
    assert unfiltered.json() == []
    assert by_key.json() == []


async def test_task_workers_filter_requires_keys(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/task_workers/filter", json={"task_worker_filter": {}}
    )

    assert response.status_code == 422
