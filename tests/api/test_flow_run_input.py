"""API tests for `/flow_runs/{id}/input`."""

import uuid

import httpx


async def create_flow_run(client: httpx.AsyncClient) -> str:
    flow = await client.post("/flows/", json={"name": "input-flow"})
    run = await client.post("/flow_runs/", json={"flow_id": flow.json()["id"]})
    assert run.status_code == 201, run.text
    return run.json()["id"]


async def test_create_read_delete_input(client: httpx.AsyncClient) -> None:
    run_id = await create_flow_run(client)
    url = f"/flow_runs/{run_id}/input"

    created = await client.post(url, json={"key": "answer", "value": '{"a": 1}'})
    duplicate = await client.post(url, json={"key": "answer", "value": "2"})
    read = await client.get(f"{url}/answer")
    deleted = await client.delete(f"{url}/answer")
    missing = await client.get(f"{url}/answer")

    assert created.status_code == 201
    assert duplicate.status_code == 409
    assert read.text == '{"a": 1}'
    assert deleted.status_code == 204
    assert missing.status_code == 404


async def test_filter_inputs_by_prefix(client: httpx.AsyncClient) -> None:
    run_id = await create_flow_run(client)
    url = f"/flow_runs/{run_id}/input"
    for key in ("reply-1", "reply-2", "other"):
        await client.post(url, json={"key": key, "value": "1", "sender": "me"})

    found = await client.post(
        f"{url}/filter",
        json={"prefix": "reply-", "limit": 10, "exclude_keys": ["reply-1"]},
    )

    assert [item["key"] for item in found.json()] == ["reply-2"]
    assert found.json()[0]["sender"] == "me"


async def test_input_unknown_run_404(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"/flow_runs/{uuid.uuid4()}/input", json={"key": "k", "value": "1"}
    )

    assert response.status_code == 404


async def test_input_bad_key_422(client: httpx.AsyncClient) -> None:
    run_id = await create_flow_run(client)

    response = await client.post(
        f"/flow_runs/{run_id}/input", json={"key": "Bad Key", "value": "1"}
    )

    assert response.status_code == 422
    assert "body.key" in response.json()["detail"]
