"""API tests for `/variables`."""

import uuid

import httpx


async def create_variable(
    client: httpx.AsyncClient, name: str, **fields: object
) -> dict:
    response = await client.post("/variables/", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_variable_returns_body(client: httpx.AsyncClient) -> None:
    created = await create_variable(
        client, "threshold", value={"a": [1, 2]}, tags=["x", "x", "y"]
    )

    assert created["name"] == "threshold"
    assert created["value"] == {"a": [1, 2]}
    assert created["tags"] == ["x", "y"]


async def test_create_variable_duplicate_name_409(client: httpx.AsyncClient) -> None:
    await create_variable(client, "dup", value=1)

    response = await client.post("/variables/", json={"name": "dup", "value": 2})

    assert response.status_code == 409
    assert "dup" in response.json()["detail"]


async def test_create_variable_value_types(client: httpx.AsyncClient) -> None:
    for index, value in enumerate(["text", 3, 2.5, True, None, [1, "a"], {"k": None}]):
        created = await create_variable(client, f"v{index}", value=value)

        assert created["value"] == value


async def test_create_variable_bad_name_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/variables/", json={"name": "Has Space", "value": 1})

    assert response.status_code == 422
    assert response.json()["exception_detail"][0]["loc"] == ["body", "name"]
    assert "body.name" in response.json()["detail"]


async def test_create_variable_long_name_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/variables/", json={"name": "a" * 256, "value": 1})

    assert response.status_code == 422
    assert "body.name" in response.json()["detail"]


async def test_create_variable_long_value_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/variables/", json={"name": "big", "value": "x" * 5000}
    )

    assert response.status_code == 422
    assert "body.value" in response.json()["detail"]
    assert "5000" in response.json()["detail"]


async def test_create_variable_missing_value_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/variables/", json={"name": "novalue"})

    assert response.status_code == 422
    assert "body.value" in response.json()["detail"]


async def test_create_variable_non_string_tag_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/variables/", json={"name": "t", "value": 1, "tags": [1]}
    )

    assert response.status_code == 422
    assert "body.tags" in response.json()["detail"]


async def test_read_variable_by_id_and_name(client: httpx.AsyncClient) -> None:
    created = await create_variable(client, "reader", value="v")

    by_id = await client.get(f"/variables/{created['id']}")
    by_name = await client.get("/variables/name/reader")

    assert by_id.json() == created
    assert by_name.json() == created


async def test_read_unknown_variable_404(client: httpx.AsyncClient) -> None:
    by_id = await client.get(f"/variables/{uuid.uuid4()}")
    by_name = await client.get("/variables/name/nothing")

    assert by_id.status_code == 404
    assert by_name.status_code == 404
    assert "not found" in by_name.json()["detail"]


async def test_update_variable_by_id_and_name(client: httpx.AsyncClient) -> None:
    created = await create_variable(client, "changing", value=1, tags=["a"])

    by_id = await client.patch(f"/variables/{created['id']}", json={"value": 2})
    by_name = await client.patch("/variables/name/changing", json={"tags": ["b"]})
    read = (await client.get(f"/variables/{created['id']}")).json()

    assert by_id.status_code == 204
    assert by_name.status_code == 204
    assert read["value"] == 2
    assert read["tags"] == ["b"]


async def test_update_variable_rename_to_taken_409(client: httpx.AsyncClient) -> None:
    await create_variable(client, "first", value=1)
    await create_variable(client, "second", value=1)

    response = await client.patch("/variables/name/second", json={"name": "first"})

    assert response.status_code == 409


async def test_update_unknown_variable_404(client: httpx.AsyncClient) -> None:
    response = await client.patch("/variables/name/ghost", json={"value": 1})

    assert response.status_code == 404


async def test_delete_variable_by_id_and_name(client: httpx.AsyncClient) -> None:
    first = await create_variable(client, "gone1", value=1)
    await create_variable(client, "gone2", value=1)

    by_id = await client.delete(f"/variables/{first['id']}")
    by_name = await client.delete("/variables/name/gone2")
    again = await client.delete("/variables/name/gone2")

    assert by_id.status_code == 204
    assert by_name.status_code == 204
    assert again.status_code == 404


async def test_filter_and_count_variables(client: httpx.AsyncClient) -> None:
    await create_variable(client, "alpha", value=1, tags=["etl", "prod"])
    await create_variable(client, "beta", value=1, tags=["etl"])
    await create_variable(client, "gamma", value=1)

    by_tag = await client.post(
        "/variables/filter", json={"variables": {"tags": {"all_": ["etl"]}}}
    )
    by_like = await client.post(
        "/variables/filter",
        json={"variables": {"name": {"like_": "amm"}}, "sort": "NAME_DESC"},
    )
    count = await client.post(
        "/variables/count", json={"variables": {"tags": {"is_null_": True}}}
    )
    paged = await client.post("/variables/filter", json={"limit": 1, "offset": 1})

    assert [v["name"] for v in by_tag.json()] == ["alpha", "beta"]
    assert [v["name"] for v in by_like.json()] == ["gamma"]
    assert count.json() == 1
    assert [v["name"] for v in paged.json()] == ["beta"]


async def test_filter_variables_null_sort_and_limit(client: httpx.AsyncClient) -> None:
    await create_variable(client, "nulls", value=1)

    response = await client.post(
        "/variables/filter", json={"sort": None, "limit": None}
    )

    assert response.status_code == 200
    assert [v["name"] for v in response.json()] == ["nulls"]
