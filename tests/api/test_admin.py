"""API tests for `/admin`: the server's default result storage block."""

import uuid

import httpx


async def create_block_document(
    client: httpx.AsyncClient, slug: str, capabilities: list[str]
) -> dict:
    block_type = await client.post(
        "/block_types/", json={"name": slug.title(), "slug": slug}
    )
    assert block_type.status_code == 201, block_type.text
    fields = {"title": slug, "type": "object", "properties": {}}
    schema = await client.post(
        "/block_schemas/",
        json={
            "block_type_id": block_type.json()["id"],
            "fields": fields,
            "capabilities": capabilities,
        },
    )
    assert schema.status_code in (200, 201), schema.text
    document = await client.post(
        "/block_documents/",
        json={
            "name": f"{slug}-doc",
            "block_type_id": block_type.json()["id"],
            "block_schema_id": schema.json()["id"],
            "data": {},
        },
    )
    assert document.status_code == 201, document.text
    return document.json()


async def test_default_result_storage_starts_unset(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/storage")

    assert response.status_code == 200
    assert response.json() == {"default_result_storage_block_id": None}


async def test_set_default_result_storage_then_read(client: httpx.AsyncClient) -> None:
    document = await create_block_document(client, "store", ["read-path", "write-path"])
    body = {"default_result_storage_block_id": document["id"]}

    updated = await client.put("/admin/storage", json=body)
    read = await client.get("/admin/storage")

    assert updated.status_code == 200
    assert updated.json() == body
    assert read.json() == body


async def test_set_default_result_storage_twice_keeps_last(
    client: httpx.AsyncClient,
) -> None:
    first = await create_block_document(client, "first", ["write-path"])
    second = await create_block_document(client, "second", ["write-path"])

    await client.put(
        "/admin/storage", json={"default_result_storage_block_id": first["id"]}
    )
    await client.put(
        "/admin/storage", json={"default_result_storage_block_id": second["id"]}
    )
    read = await client.get("/admin/storage")

    assert read.json()["default_result_storage_block_id"] == second["id"]


async def test_clear_default_result_storage(client: httpx.AsyncClient) -> None:
    document = await create_block_document(client, "store", ["write-path"])
    await client.put(
        "/admin/storage", json={"default_result_storage_block_id": document["id"]}
    )

    cleared = await client.delete("/admin/storage")
    cleared_again = await client.delete("/admin/storage")
    read = await client.get("/admin/storage")

    assert cleared.status_code == 204
    assert cleared_again.status_code == 204
    assert read.json()["default_result_storage_block_id"] is None


async def test_default_result_storage_unknown_block_404(
    client: httpx.AsyncClient,
) -> None:
    missing = str(uuid.uuid4())

    response = await client.put(
        "/admin/storage", json={"default_result_storage_block_id": missing}
    )

    assert response.status_code == 404
    assert missing in response.json()["detail"]


async def test_default_result_storage_rejects_read_only_block(
    client: httpx.AsyncClient,
) -> None:
    document = await create_block_document(client, "reader", ["read-path"])

    response = await client.put(
        "/admin/storage", json={"default_result_storage_block_id": document["id"]}
    )
    read = await client.get("/admin/storage")

    assert response.status_code == 422
    assert "write-path" in response.json()["detail"]
    assert read.json()["default_result_storage_block_id"] is None


async def test_default_result_storage_requires_block_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.put("/admin/storage", json={})

    assert response.status_code == 422
    assert "default_result_storage_block_id" in response.json()["detail"]


async def test_default_result_storage_unset_after_block_deleted(
    client: httpx.AsyncClient,
) -> None:
    document = await create_block_document(client, "gone", ["write-path"])
    await client.put(
        "/admin/storage", json={"default_result_storage_block_id": document["id"]}
    )

    deleted = await client.delete(f"/block_documents/{document['id']}")
    read = await client.get("/admin/storage")

    assert deleted.status_code == 204
    assert read.json()["default_result_storage_block_id"] is None
