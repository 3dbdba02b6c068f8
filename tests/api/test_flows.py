"""API tests for `/flows`."""

import uuid

import httpx


async def create_flow(client: httpx.AsyncClient, name: str, **fields: object) -> dict:
    response = await client.post("/flows/", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_flow_returns_201_then_200(client: httpx.AsyncClient) -> None:
    first = await client.post("/flows/", json={"name": "etl", "tags": ["a", "a", "b"]})
    again = await client.post("/flows/", json={"name": "etl"})

    assert first.status_code == 201
    assert first.json()["tags"] == ["a", "b"]
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


async def test_create_flow_rejects_slash_in_name(client: httpx.AsyncClient) -> None:
    response = await client.post("/flows/", json={"name": "a/b"})

    assert response.status_code == 422
    assert response.json()["exception_detail"][0]["loc"] == ["body", "name"]
    assert "body.name" in response.json()["detail"]


async def test_read_flow_by_id_and_name(client: httpx.AsyncClient) -> None:
    flow = await create_flow(client, "reader")

    by_id = await client.get(f"/flows/{flow['id']}")
    by_name = await client.get("/flows/name/reader")

    assert by_id.json() == flow
    assert by_name.json() == flow


async def test_unknown_flow_returns_404_with_detail(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/flows/{uuid.uuid4()}")

    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


async def test_update_then_delete_flow(client: httpx.AsyncClient) -> None:
    flow = await create_flow(client, "changing", tags=["old"])

    patched = await client.patch(f"/flows/{flow['id']}", json={"tags": ["new"]})
    read = await client.get(f"/flows/{flow['id']}")
    deleted = await client.delete(f"/flows/{flow['id']}")
    deleted_again = await client.delete(f"/flows/{flow['id']}")

    assert patched.status_code == 204
    assert read.json()["tags"] == ["new"]
    assert deleted.status_code == 204
    assert deleted_again.status_code == 404


async def test_filter_flows_by_tags_and_like(client: httpx.AsyncClient) -> None:
    await create_flow(client, "db-load", tags=["database", "nightly"])
    await create_flow(client, "db_50x", tags=["database"])
    await create_flow(client, "db-50x", tags=["database"])
    await create_flow(client, "api-pull", tags=[])

    tagged = await client.post(
        "/flows/filter", json={"flows": {"tags": {"all_": ["database", "nightly"]}}}
    )
    untagged = await client.post(
        "/flows/count", json={"flows": {"tags": {"is_null_": True}}}
    )
    literal_underscore = await client.post(
        "/flows/filter", json={"flows": {"name": {"like_": "_50x"}}}
    )
    either = await client.post(
        "/flows/filter",
        json={
            "flows": {
                "operator": "or_",
                "name": {"any_": ["api-pull"]},
                "tags": {"all_": ["nightly"]},
            },
            "sort": "NAME_DESC",
        },
    )

    assert [f["name"] for f in tagged.json()] == ["db-load"]
    assert untagged.json() == 1
    assert [f["name"] for f in literal_underscore.json()] == ["db_50x"]
    assert [f["name"] for f in either.json()] == ["db-load", "api-pull"]


async def test_filter_flows_rejects_limit_over_maximum(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/flows/filter", json={"limit": 201})

    assert response.status_code == 422
    assert response.json()["exception_detail"][0]["loc"] == ["body", "limit"]


async def test_filter_endpoints_accept_null_paging_and_sort(
    client: httpx.AsyncClient,
) -> None:
    # The Prefect CLI sends explicit nulls for paging and sort; each means
    # the default, as on Prefect's own server.
    body = {"sort": None, "limit": None, "offset": None}
    for path in (
        "/flows/filter",
        "/flow_runs/filter",
        "/task_runs/filter",
        "/deployments/filter",
        "/logs/filter",
        "/variables/filter",
        "/artifacts/filter",
        "/block_documents/filter",
        "/automations/filter",
        "/work_pools/filter",
        "/work_queues/filter",
        "/concurrency_limits/filter",
        "/v2/concurrency_limits/filter",
    ):
        response = await client.post(path, json=body)
        assert response.status_code == 200, f"{path}: {response.text}"


async def test_bulk_delete_flows_by_filter(client: httpx.AsyncClient) -> None:
    doomed = await create_flow(client, "doomed", tags=["old"])
    kept = await create_flow(client, "kept", tags=["new"])
    run = await client.post("/flow_runs/", json={"flow_id": doomed["id"]})

    response = await client.post(
        "/flows/bulk_delete", json={"flows": {"tags": {"all_": ["old"]}}}
    )

    assert response.status_code == 200
    assert response.json() == {"deleted": [doomed["id"]]}
    assert (await client.get(f"/flows/{doomed['id']}")).status_code == 404
    assert (await client.get(f"/flows/{kept['id']}")).status_code == 200
    assert (await client.get(f"/flow_runs/{run.json()['id']}")).status_code == 404


async def test_bulk_delete_flows_respects_limit(client: httpx.AsyncClient) -> None:
    for name in ("a", "b", "c"):
        await create_flow(client, name)

    response = await client.post("/flows/bulk_delete", json={"limit": 2})
    remaining = await client.post("/flows/count", json={})

    assert len(response.json()["deleted"]) == 2
    assert remaining.json() == 1


async def test_bulk_delete_flows_without_match(client: httpx.AsyncClient) -> None:
    await create_flow(client, "stays")

    response = await client.post(
        "/flows/bulk_delete", json={"flows": {"name": {"any_": ["absent"]}}}
    )

    assert response.status_code == 200
    assert response.json() == {"deleted": []}


async def test_bulk_delete_flows_rejects_large_limit(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/flows/bulk_delete", json={"limit": 51})

    assert response.status_code == 422
    assert "limit" in response.json()["detail"]
