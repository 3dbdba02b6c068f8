"""API tests for block types, block schemas and block documents."""

import uuid

import httpx

from podium.storage.block_data import SECRET_MASK, schema_checksum

SECRET_CHECKSUM = (
    "sha256:c078ed9c1e813e224c0b353d7ad4564a11d51d3198d9ac0686478165a1911c78"
)


async def make_type(client: httpx.AsyncClient, slug: str, **fields: object) -> dict:
    body = {"name": slug.replace("-", " ").title(), "slug": slug, **fields}
    response = await client.post("/block_types/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def make_schema(
    client: httpx.AsyncClient, block_type_id: str, fields: dict, **extra: object
) -> dict:
    body = {"block_type_id": block_type_id, "fields": fields, **extra}
    response = await client.post("/block_schemas/", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


CREDENTIALS_FIELDS = {
    "title": "Creds",
    "type": "object",
    "properties": {"user": {"type": "string"}, "password": {"type": "string"}},
    "secret_fields": ["password"],
    "block_schema_references": {},
}


async def make_credentials_document(client: httpx.AsyncClient, name: str) -> dict:
    block_type = await make_type(client, "creds")
    schema = await make_schema(client, block_type["id"], CREDENTIALS_FIELDS)
    response = await client.post(
        "/block_documents/",
        json={
            "name": name,
            "block_type_id": block_type["id"],
            "block_schema_id": schema["id"],
            "data": {"user": "ann", "password": "hunter2"},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_system_block_types_registered(client: httpx.AsyncClient) -> None:
    secret = await client.get("/block_types/slug/secret")
    local = await client.get("/block_types/slug/local-file-system")
    schema = await client.get(
        f"/block_schemas/checksum/{SECRET_CHECKSUM}?version=3.9.1"
    )

    assert secret.status_code == 200
    assert secret.json()["is_protected"] is True
    assert local.status_code == 200
    assert schema.json()["block_type"]["slug"] == "secret"
    assert schema.json()["fields"]["secret_fields"] == ["value", "value"]


async def test_install_system_block_types_idempotent(client: httpx.AsyncClient) -> None:
    before = await client.post("/block_types/filter", json={})
    install = await client.post("/block_types/install_system_block_types")
    after = await client.post("/block_types/filter", json={})

    assert install.status_code == 200
    assert len(before.json()) == len(after.json())
    assert len(after.json()) >= 50


async def test_block_capabilities_listed(client: httpx.AsyncClient) -> None:
    response = await client.get("/block_capabilities/")

    assert "read-path" in response.json()
    assert response.json() == sorted(response.json())


async def test_block_type_crud(client: httpx.AsyncClient) -> None:
    created = await make_type(client, "my-type", description="old")

    by_slug = await client.get("/block_types/slug/my-type")
    patched = await client.patch(
        f"/block_types/{created['id']}", json={"description": "new"}
    )
    read = await client.get(f"/block_types/{created['id']}")
    deleted = await client.delete(f"/block_types/{created['id']}")
    gone = await client.get(f"/block_types/{created['id']}")

    assert by_slug.json()["id"] == created["id"]
    assert patched.status_code == 204
    assert read.json()["description"] == "new"
    assert deleted.status_code == 204
    assert gone.status_code == 404


async def test_block_type_duplicate_slug_409(client: httpx.AsyncClient) -> None:
    await make_type(client, "twice")

    response = await client.post(
        "/block_types/", json={"name": "Other", "slug": "twice"}
    )

    assert response.status_code == 409


async def test_block_type_reserved_name_403(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/block_types/", json={"name": "Prefect X", "slug": "px"}
    )

    assert response.status_code == 403


async def test_block_type_bad_slug_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/block_types/", json={"name": "A", "slug": "Not Slug"}
    )

    assert response.status_code == 422
    assert "body.slug" in response.json()["detail"]


async def test_protected_block_type_delete_403(client: httpx.AsyncClient) -> None:
    secret = (await client.get("/block_types/slug/secret")).json()

    response = await client.delete(f"/block_types/{secret['id']}")

    assert response.status_code == 403


async def test_block_types_filter_by_capability(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/block_types/filter",
        json={"block_schemas": {"block_capabilities": {"all_": ["write-path"]}}},
    )
    slugs = [block_type["slug"] for block_type in response.json()]

    assert "local-file-system" in slugs
    assert "secret" not in slugs


async def test_block_schema_same_checksum_returns_existing(
    client: httpx.AsyncClient,
) -> None:
    block_type = await make_type(client, "versioned")
    fields = {"title": "V", "properties": {"a": {"type": "integer"}}}

    first = await client.post(
        "/block_schemas/", json={"block_type_id": block_type["id"], "fields": fields}
    )
    again = await client.post(
        "/block_schemas/", json={"block_type_id": block_type["id"], "fields": fields}
    )
    other_version = await client.post(
        "/block_schemas/",
        json={"block_type_id": block_type["id"], "fields": fields, "version": "2"},
    )

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["checksum"] == schema_checksum(fields)
    assert other_version.status_code == 201
    assert other_version.json()["id"] != first.json()["id"]


async def test_block_schema_read_and_filter(client: httpx.AsyncClient) -> None:
    block_type = await make_type(client, "schemed")
    schema = await make_schema(
        client, block_type["id"], {"title": "S"}, capabilities=["fly"], version="7"
    )

    by_id = await client.get(f"/block_schemas/{schema['id']}")
    by_checksum = await client.get(f"/block_schemas/checksum/{schema['checksum']}")
    wrong_version = await client.get(
        f"/block_schemas/checksum/{schema['checksum']}", params={"version": "8"}
    )
    filtered = await client.post(
        "/block_schemas/filter",
        json={
            "block_schemas": {
                "block_type_id": {"any_": [block_type["id"]]},
                "version": {"any_": ["7"]},
                "block_capabilities": {"all_": ["fly"]},
            }
        },
    )

    assert by_id.json()["block_type"]["slug"] == "schemed"
    assert by_checksum.json()["id"] == schema["id"]
    assert wrong_version.status_code == 404
    assert [s["id"] for s in filtered.json()] == [schema["id"]]


async def test_block_schema_unknown_type_404(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/block_schemas/", json={"block_type_id": str(uuid.uuid4()), "fields": {}}
    )

    assert response.status_code == 404


async def test_block_document_secret_masked(client: httpx.AsyncClient) -> None:
    created = await make_credentials_document(client, "mine")

    hidden = await client.get(f"/block_documents/{created['id']}")
    shown = await client.get(
        f"/block_documents/{created['id']}", params={"include_secrets": True}
    )

    assert created["data"]["password"] == SECRET_MASK
    assert hidden.json()["data"] == {"user": "ann", "password": SECRET_MASK}
    assert shown.json()["data"]["password"] == "hunter2"
    assert hidden.json()["block_type_name"] == "Creds"


async def test_block_document_read_by_slug_and_name(client: httpx.AsyncClient) -> None:
    created = await make_credentials_document(client, "named")

    by_name = await client.get("/block_types/slug/creds/block_documents/name/named")
    listed = await client.get(
        "/block_types/slug/creds/block_documents", params={"include_secrets": True}
    )
    missing = await client.get("/block_types/slug/creds/block_documents/name/nope")

    assert by_name.json()["id"] == created["id"]
    assert [d["data"]["password"] for d in listed.json()] == ["hunter2"]
    assert missing.status_code == 404


async def test_block_document_duplicate_name_409(client: httpx.AsyncClient) -> None:
    created = await make_credentials_document(client, "once")

    response = await client.post(
        "/block_documents/",
        json={
            "name": "once",
            "block_type_id": created["block_type_id"],
            "block_schema_id": created["block_schema_id"],
            "data": {},
        },
    )

    assert response.status_code == 409


async def test_block_document_name_required_422(client: httpx.AsyncClient) -> None:
    secret = (await client.get("/block_types/slug/secret")).json()
    schema = (await client.get(f"/block_schemas/checksum/{SECRET_CHECKSUM}")).json()

    response = await client.post(
        "/block_documents/",
        json={"block_type_id": secret["id"], "block_schema_id": schema["id"]},
    )

    assert response.status_code == 422
    assert "name" in response.json()["detail"]


async def test_anonymous_document_hidden_from_filter(client: httpx.AsyncClient) -> None:
    created = await make_credentials_document(client, "visible")
    anonymous = await client.post(
        "/block_documents/",
        json={
            "is_anonymous": True,
            "block_type_id": created["block_type_id"],
            "block_schema_id": created["block_schema_id"],
            "data": {"user": "x"},
        },
    )

    default = await client.post("/block_documents/filter", json={})
    with_anonymous = await client.post(
        "/block_documents/count",
        json={"block_documents": {"is_anonymous": {"eq_": True}}},
    )

    assert anonymous.json()["name"].startswith("anonymous-")
    assert [d["name"] for d in default.json()] == ["visible"]
    assert with_anonymous.json() == 1


async def test_block_document_update_merges_and_keeps_secret(
    client: httpx.AsyncClient,
) -> None:
    created = await make_credentials_document(client, "upd")
    url = f"/block_documents/{created['id']}"

    merged = await client.patch(
        url, json={"data": {"user": "bob", "password": SECRET_MASK}}
    )
    after_merge = (await client.get(url, params={"include_secrets": True})).json()
    replaced = await client.patch(
        url, json={"data": {"user": "cy"}, "merge_existing_data": False}
    )
    after_replace = (await client.get(url, params={"include_secrets": True})).json()

    assert merged.status_code == 204
    assert after_merge["data"] == {"user": "bob", "password": "hunter2"}
    assert replaced.status_code == 204
    assert after_replace["data"] == {"user": "cy"}


async def test_block_document_nested_reference(client: httpx.AsyncClient) -> None:
    child = await make_credentials_document(client, "child")
    parent_type = await make_type(client, "holder")
    parent_schema = await make_schema(
        client,
        parent_type["id"],
        {"title": "Holder", "properties": {"creds": {}, "x": {}}, "secret_fields": []},
    )

    response = await client.post(
        "/block_documents/",
        json={
            "name": "parent",
            "block_type_id": parent_type["id"],
            "block_schema_id": parent_schema["id"],
            "data": {"x": 1, "creds": {"$ref": {"block_document_id": child["id"]}}},
        },
    )
    shown = await client.get(
        f"/block_documents/{response.json()['id']}", params={"include_secrets": True}
    )

    assert response.status_code == 201
    assert response.json()["data"]["creds"] == {"user": "ann", "password": SECRET_MASK}
    reference = response.json()["block_document_references"]["creds"]["block_document"]
    assert reference["id"] == child["id"]
    assert shown.json()["data"]["creds"]["password"] == "hunter2"


async def test_block_document_reference_cycle_422(client: httpx.AsyncClient) -> None:
    child = await make_credentials_document(client, "loop")
    ref = {"$ref": {"block_document_id": child["id"]}}

    response = await client.patch(
        f"/block_documents/{child['id']}", json={"data": {"self": ref}}
    )

    assert response.status_code == 422


async def test_block_document_delete(client: httpx.AsyncClient) -> None:
    created = await make_credentials_document(client, "bye")

    deleted = await client.delete(f"/block_documents/{created['id']}")
    again = await client.delete(f"/block_documents/{created['id']}")

    assert deleted.status_code == 204
    assert again.status_code == 404
