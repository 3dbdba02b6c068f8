"""API tests for `/saved_searches`."""

import uuid

import httpx

FILTER = {
    "object": "flow",
    "property": "name",
    "type": "string",
    "operation": "equals",
    "value": "etl",
}


async def test_put_creates_then_replaces(client: httpx.AsyncClient) -> None:
    created = await client.put("/saved_searches/", json={"name": "mine", "filters": []})
    replaced = await client.put(
        "/saved_searches/", json={"name": "mine", "filters": [FILTER]}
    )

    assert created.status_code == 201
    assert replaced.status_code == 200
    assert replaced.json()["id"] == created.json()["id"]
    assert replaced.json()["filters"] == [FILTER]


async def test_read_filter_delete(client: httpx.AsyncClient) -> None:
    created = (await client.put("/saved_searches/", json={"name": "b"})).json()
    await client.put("/saved_searches/", json={"name": "a"})

    read = await client.get(f"/saved_searches/{created['id']}")
    listed = await client.post("/saved_searches/filter", json={})
    deleted = await client.delete(f"/saved_searches/{created['id']}")
    missing = await client.get(f"/saved_searches/{created['id']}")

    assert read.json()["name"] == "b"
    assert [item["name"] for item in listed.json()] == ["a", "b"]
    assert deleted.status_code == 204
    assert missing.status_code == 404


async def test_filter_missing_field_422(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/saved_searches/", json={"name": "x", "filters": [{"object": "flow"}]}
    )

    assert response.status_code == 422
    assert "body.filters" in response.json()["detail"]


async def test_delete_unknown_404(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"/saved_searches/{uuid.uuid4()}")

    assert response.status_code == 404
