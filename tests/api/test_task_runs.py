"""API tests for `/task_runs` and `/task_run_states`."""

import datetime as dt
import uuid

import httpx
import pytest


async def create_task_run(client: httpx.AsyncClient, **fields) -> dict:
    body = {"task_key": "key", "dynamic_key": uuid.uuid4().hex, **fields}
    response = await client.post("/task_runs/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def set_state(
    client: httpx.AsyncClient, path: str, state: dict
) -> httpx.Response:
    return await client.post(f"{path}/set_state", json={"state": state})


async def filter_ids(client: httpx.AsyncClient, body: dict) -> list[str]:
    response = await client.post("/task_runs/filter", json=body)
    assert response.status_code == 200, response.text
    return [run["id"] for run in response.json()]


@pytest.fixture
async def flow_run(client: httpx.AsyncClient) -> dict:
    flow = (await client.post("/flows/", json={"name": "tasks-flow"})).json()
    run = (await client.post("/flow_runs/", json={"flow_id": flow["id"]})).json()
    await set_state(client, f"/flow_runs/{run['id']}", {"type": "RUNNING"})
    return run


async def test_create_task_run_defaults_to_pending(client, flow_run) -> None:
    task = await create_task_run(client, flow_run_id=flow_run["id"], name="t")

    assert task["state_type"] == "PENDING"
    assert task["state"]["state_details"]["task_run_id"] == task["id"]
    assert task["state"]["state_details"]["flow_run_id"] == flow_run["id"]
    assert task["labels"]["prefect.flow-run.id"] == flow_run["id"]
    assert task["expected_start_time"] == task["state"]["timestamp"]


async def test_create_task_run_upserts_on_keys(client, flow_run) -> None:
    body = {"flow_run_id": flow_run["id"], "task_key": "k", "dynamic_key": "0"}

    first = await client.post("/task_runs/", json=body)
    again = await client.post("/task_runs/", json={**body, "name": "other"})

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


async def test_create_task_run_without_flow_run_upserts(client) -> None:
    body = {"task_key": "k", "dynamic_key": "0"}

    first = await client.post("/task_runs/", json=body)
    again = await client.post("/task_runs/", json=body)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


async def test_create_task_run_with_client_id(client) -> None:
    wanted = str(uuid.uuid4())

    task = await create_task_run(client, id=wanted)

    assert task["id"] == wanted


async def test_create_task_run_keeps_task_inputs(client, flow_run) -> None:
    upstream = await create_task_run(client, flow_run_id=flow_run["id"])
    inputs = {
        "x": [{"input_type": "task_run", "id": upstream["id"]}],
        "y": [{"input_type": "parameter", "name": "y"}],
    }

    task = await create_task_run(client, flow_run_id=flow_run["id"], task_inputs=inputs)

    assert task["task_inputs"] == inputs


async def test_read_update_delete_task_run(client, flow_run) -> None:
    task = await create_task_run(client, flow_run_id=flow_run["id"])

    patched = await client.patch(f"/task_runs/{task['id']}", json={"name": "renamed"})
    read = await client.get(f"/task_runs/{task['id']}")
    deleted = await client.delete(f"/task_runs/{task['id']}")
    gone = await client.get(f"/task_runs/{task['id']}")

    assert patched.status_code == 204
    assert read.json()["name"] == "renamed"
    assert deleted.status_code == 204
    assert gone.status_code == 404


async def test_unknown_task_run_is_404(client) -> None:
    missing = str(uuid.uuid4())

    assert (await client.get(f"/task_runs/{missing}")).status_code == 404
    assert (await client.delete(f"/task_runs/{missing}")).status_code == 404
    response = await set_state(client, f"/task_runs/{missing}", {"type": "RUNNING"})
    assert response.status_code == 404


async def test_task_run_set_state_statuses(client, flow_run) -> None:
    task = await create_task_run(client, flow_run_id=flow_run["id"])
    path = f"/task_runs/{task['id']}"

    running = await set_state(client, path, {"type": "RUNNING"})
    completed = await set_state(client, path, {"type": "COMPLETED"})
    bogus = await set_state(client, path, {"type": "BOGUS"})

    assert running.status_code == 201
    assert running.json()["status"] == "ACCEPT"
    assert completed.status_code == 201
    assert bogus.status_code == 422


async def test_task_run_aborts_while_flow_run_pending(client) -> None:
    flow = (await client.post("/flows/", json={"name": "pending-flow"})).json()
    run = (await client.post("/flow_runs/", json={"flow_id": flow["id"]})).json()
    task = await create_task_run(client, flow_run_id=run["id"])

    response = await set_state(client, f"/task_runs/{task['id']}", {"type": "RUNNING"})

    assert response.status_code == 200
    assert response.json()["status"] == "ABORT"


async def test_task_run_states_listed_in_order(client, flow_run) -> None:
    task = await create_task_run(client, flow_run_id=flow_run["id"])
    await set_state(client, f"/task_runs/{task['id']}", {"type": "RUNNING"})

    states = await client.get("/task_run_states/", params={"task_run_id": task["id"]})
    one = await client.get(f"/task_run_states/{states.json()[0]['id']}")

    assert [s["type"] for s in states.json()] == ["PENDING", "RUNNING"]
    assert one.json()["type"] == "PENDING"
    assert (await client.get(f"/task_run_states/{uuid.uuid4()}")).status_code == 404


async def test_filter_task_runs_by_flow_run(client, flow_run) -> None:
    task = await create_task_run(client, flow_run_id=flow_run["id"])
    await create_task_run(client)

    by_flow_run = {"flow_runs": {"id": {"any_": [flow_run["id"]]}}}
    by_column = {"task_runs": {"flow_run_id": {"any_": [flow_run["id"]]}}}
    without = {"task_runs": {"flow_run_id": {"is_null_": True}}}
    with_any = {"task_runs": {"flow_run_id": {}}}

    assert await filter_ids(client, by_flow_run) == [task["id"]]
    assert await filter_ids(client, by_column) == [task["id"]]
    assert len(await filter_ids(client, without)) == 1
    assert await filter_ids(client, with_any) == [task["id"]]


async def test_filter_task_runs_by_name_tags_state(client, flow_run) -> None:
    tagged = await create_task_run(
        client, flow_run_id=flow_run["id"], name="load_data", tags=["x", "y"]
    )
    other = await create_task_run(client, flow_run_id=flow_run["id"], name="other")
    await set_state(client, f"/task_runs/{other['id']}", {"type": "RUNNING"})

    assert await filter_ids(client, {"task_runs": {"name": {"like_": "d_d"}}}) == [
        tagged["id"]
    ]
    assert await filter_ids(client, {"task_runs": {"tags": {"all_": ["x", "y"]}}}) == [
        tagged["id"]
    ]
    running = {"task_runs": {"state": {"type": {"any_": ["RUNNING"]}}}}
    assert await filter_ids(client, running) == [other["id"]]
    started = {"task_runs": {"start_time": {"is_null_": False}}}
    assert await filter_ids(client, started) == [other["id"]]


async def test_filter_task_runs_by_subflow_runs(client, flow_run) -> None:
    parent = await create_task_run(client, flow_run_id=flow_run["id"])
    plain = await create_task_run(client, flow_run_id=flow_run["id"])
    await client.post(
        "/flow_runs/",
        json={"flow_id": flow_run["flow_id"], "parent_task_run_id": parent["id"]},
    )

    with_sub = {"task_runs": {"subflow_runs": {"exists_": True}}}
    without_sub = {"task_runs": {"subflow_runs": {"exists_": False}}}

    assert await filter_ids(client, with_sub) == [parent["id"]]
    assert plain["id"] in await filter_ids(client, without_sub)


async def test_subflow_state_is_copied_to_parent_task(client, flow_run) -> None:
    parent = await create_task_run(client, flow_run_id=flow_run["id"])
    child = await client.post(
        "/flow_runs/",
        json={"flow_id": flow_run["flow_id"], "parent_task_run_id": parent["id"]},
    )
    await set_state(client, f"/flow_runs/{child.json()['id']}", {"type": "RUNNING"})

    task = (await client.get(f"/task_runs/{parent['id']}")).json()

    assert task["state_type"] == "RUNNING"
    assert task["state"]["state_details"]["child_flow_run_id"] == child.json()["id"]


@pytest.mark.parametrize(
    "sort,expected",
    [
        ("NAME_ASC", ["a", "b", "c"]),
        ("NAME_DESC", ["c", "b", "a"]),
        ("DURATION_DESC", ["b", "a", "c"]),
        ("DURATION_ASC", ["c", "a", "b"]),
    ],
)
async def test_task_run_sorts(client, flow_run, sort, expected) -> None:
    for name in ("a", "b", "c"):
        await create_task_run(client, flow_run_id=flow_run["id"], name=name)
    by_name = {
        r["name"]: r for r in (await client.post("/task_runs/filter", json={})).json()
    }
    # b has run longest, a is running, c never ran
    await set_state(client, f"/task_runs/{by_name['b']['id']}", {"type": "RUNNING"})
    await set_state(client, f"/task_runs/{by_name['a']['id']}", {"type": "RUNNING"})

    response = await client.post("/task_runs/filter", json={"sort": sort})

    assert [run["name"] for run in response.json()] == expected


@pytest.mark.parametrize(
    "sort",
    [
        "ID_DESC",
        "EXPECTED_START_TIME_ASC",
        "EXPECTED_START_TIME_DESC",
        "NEXT_SCHEDULED_START_TIME_ASC",
        "END_TIME_DESC",
    ],
)
async def test_task_run_sort_accepted(client, flow_run, sort) -> None:
    await create_task_run(client, flow_run_id=flow_run["id"])

    response = await client.post("/task_runs/filter", json={"sort": sort})

    assert response.status_code == 200
    assert len(response.json()) == 1


async def test_task_run_count_paginate_history(client, flow_run) -> None:
    for _ in range(3):
        await create_task_run(client, flow_run_id=flow_run["id"])
    now = dt.datetime.now(dt.UTC)
    history_body = {
        "history_start": (now - dt.timedelta(hours=1)).isoformat(),
        "history_end": (now + dt.timedelta(hours=1)).isoformat(),
        "history_interval_seconds": 3600,
    }

    count = await client.post("/task_runs/count", json={})
    page = await client.post("/task_runs/paginate", json={"limit": 2})
    history = await client.post("/task_runs/history", json=history_body)

    assert count.json() == 3
    assert page.json()["pages"] == 2
    pending = [
        s["count_runs"]
        for b in history.json()
        for s in b["states"]
        if s["state_type"] == "PENDING"
    ]
    assert sum(pending) == 3
