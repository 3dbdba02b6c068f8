"""API tests for `/observed-states`."""

import httpx
import pytest


@pytest.fixture
async def flow_run(client: httpx.AsyncClient) -> dict:
    flow = (await client.post("/flows/", json={"name": "observed"})).json()
    run = (await client.post("/flow_runs/", json={"flow_id": flow["id"]})).json()
    for state in ({"type": "RUNNING"}, {"type": "COMPLETED", "name": "Done"}):
        response = await client.post(
            f"/flow_runs/{run['id']}/set_state", json={"state": state}
        )
        assert response.status_code == 201, response.text
    return run


async def test_observed_states_lists_pairs(client, flow_run) -> None:
    response = await client.get("/observed-states")

    assert response.status_code == 200
    pairs = [(s["state_type"], s["state_name"]) for s in response.json()]
    assert pairs[0] == ("COMPLETED", "Done")
    assert set(pairs) == {
        ("PENDING", "Pending"),
        ("RUNNING", "Running"),
        ("COMPLETED", "Done"),
    }


async def test_observed_states_merge_task_runs(client, flow_run) -> None:
    body = {"flow_run_id": flow_run["id"], "task_key": "k", "dynamic_key": "0"}
    task = (await client.post("/task_runs/", json=body)).json()

    response = await client.get("/observed-states", params={"order_by": "NAME_ASC"})

    pending = [s for s in response.json() if s["state_type"] == "PENDING"]
    assert len(pending) == 1
    assert pending[0]["last_seen"] >= task["state"]["timestamp"][:19]


async def test_observed_states_sorted_by_name(client, flow_run) -> None:
    response = await client.get("/observed-states", params={"order_by": "NAME_ASC"})

    types = [s["state_type"] for s in response.json()]
    assert types == ["COMPLETED", "PENDING", "RUNNING"]


async def test_observed_states_prefix_query(client, flow_run) -> None:
    by_type = await client.get("/observed-states", params={"query": "run"})
    by_name = await client.get("/observed-states", params={"query": "do"})
    literal = await client.get("/observed-states", params={"query": "%"})

    assert [s["state_type"] for s in by_type.json()] == ["RUNNING"]
    assert [s["state_name"] for s in by_name.json()] == ["Done"]
    assert literal.json() == []


async def test_observed_states_limit(client, flow_run) -> None:
    response = await client.get("/observed-states", params={"limit": 1})
    too_large = await client.get("/observed-states", params={"limit": 201})

    assert len(response.json()) == 1
    assert too_large.status_code == 422
