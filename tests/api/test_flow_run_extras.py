"""API tests for `/flow_runs/lateness` and `/flow_runs/{id}/graph`."""

import datetime as dt
import uuid

import httpx
import pytest


def scheduled(at: dt.datetime) -> dict:
    return {"type": "SCHEDULED", "state_details": {"scheduled_time": at.isoformat()}}


async def create_run(client: httpx.AsyncClient, flow_id: str, **fields) -> dict:
    response = await client.post("/flow_runs/", json={"flow_id": flow_id, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def create_task_run(client: httpx.AsyncClient, **fields) -> dict:
    body = {"task_key": "key", "dynamic_key": uuid.uuid4().hex, **fields}
    response = await client.post("/task_runs/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def flow(client: httpx.AsyncClient) -> dict:
    response = await client.post("/flows/", json={"name": "extras"})
    return response.json()


async def test_lateness_without_runs_is_null(client: httpx.AsyncClient) -> None:
    response = await client.post("/flow_runs/lateness", json={})

    assert response.status_code == 200
    assert response.json() is None


async def test_lateness_averages_late_and_future_runs(client, flow) -> None:
    now = dt.datetime.now(dt.UTC)
    await create_run(client, flow["id"], state=scheduled(now - dt.timedelta(hours=1)))
    await create_run(client, flow["id"], state=scheduled(now + dt.timedelta(hours=1)))

    response = await client.post("/flow_runs/lateness", json={})

    assert response.status_code == 200
    assert 1800 <= response.json() < 1900


async def test_lateness_counts_late_start(client, flow) -> None:
    now = dt.datetime.now(dt.UTC)
    run = await create_run(
        client, flow["id"], state=scheduled(now - dt.timedelta(minutes=10))
    )
    await client.post(
        f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "PENDING"}}
    )
    await client.post(
        f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "RUNNING"}}
    )
    await client.post(
        f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "COMPLETED"}}
    )

    response = await client.post("/flow_runs/lateness", json={})

    assert 600 <= response.json() < 700


async def test_lateness_of_future_run_is_zero(client, flow) -> None:
    now = dt.datetime.now(dt.UTC)
    await create_run(client, flow["id"], state=scheduled(now + dt.timedelta(hours=1)))

    response = await client.post("/flow_runs/lateness", json={})

    assert response.json() == 0


async def test_lateness_applies_filters(client, flow) -> None:
    now = dt.datetime.now(dt.UTC)
    late = await create_run(
        client, flow["id"], state=scheduled(now - dt.timedelta(hours=1))
    )
    await create_run(client, flow["id"], state=scheduled(now + dt.timedelta(hours=1)))

    response = await client.post(
        "/flow_runs/lateness",
        json={"flow_runs": {"id": {"any_": [late["id"]]}}},
    )

    assert 3600 <= response.json() < 3700


async def test_graph_lists_task_runs_with_upstream(client, flow) -> None:
    run = await create_run(client, flow["id"])
    first = await create_task_run(client, flow_run_id=run["id"], name="first")
    upstream = [{"input_type": "task_run", "id": first["id"]}]
    second = await create_task_run(
        client,
        flow_run_id=run["id"],
        name="second",
        task_inputs={
            "x": upstream,
            "y": upstream,
            "z": [{"input_type": "parameter", "name": "p"}],
        },
    )

    response = await client.get(f"/flow_runs/{run['id']}/graph")

    assert response.status_code == 200
    nodes = {node["id"]: node for node in response.json()}
    assert set(nodes) == {first["id"], second["id"]}
    assert nodes[first["id"]]["upstream_dependencies"] == []
    assert nodes[second["id"]]["upstream_dependencies"] == upstream
    assert nodes[second["id"]]["name"] == "second"
    assert nodes[second["id"]]["state"]["type"] == "PENDING"
    assert nodes[second["id"]]["untrackable_result"] is False


async def test_graph_of_run_without_tasks_is_empty(client, flow) -> None:
    run = await create_run(client, flow["id"])

    response = await client.get(f"/flow_runs/{run['id']}/graph")

    assert response.status_code == 200
    assert response.json() == []


async def test_graph_of_unknown_run_is_404(client: httpx.AsyncClient) -> None:
    missing = str(uuid.uuid4())

    response = await client.get(f"/flow_runs/{missing}/graph")

    assert response.status_code == 404
    assert missing in response.json()["detail"]
