"""API tests for client mistakes that reach the database.

Each case here once returned a 500, or a 4xx that hid the mistake, on one
backend or both. A client's mistake must get a 4xx with a `detail` that
states what was wrong, and the failed request must leave nothing written.
"""

import secrets
import uuid

import httpx
import pytest

from podium.storage.database import Database

TOO_BIG_FOR_INT64 = 2**63
TOO_BIG_FOR_INT32 = 2**31


async def create_flow(client: httpx.AsyncClient, name: str) -> dict:
    response = await client.post("/flows/", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    "path",
    [
        "/flows/filter",
        "/variables/filter",
        "/logs/filter",
        "/v2/concurrency_limits/filter",
    ],
)
async def test_filter_offset_past_int64_returns_422(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.post(path, json={"offset": TOO_BIG_FOR_INT64})

    assert response.status_code == 422
    assert "body.offset" in response.json()["detail"]


async def test_paginate_page_past_int64_returns_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/flows/paginate", json={"page": TOO_BIG_FOR_INT64, "limit": 10}
    )

    assert response.status_code == 422
    assert "range" in response.json()["detail"]


@pytest.mark.parametrize("limit", [TOO_BIG_FOR_INT32, TOO_BIG_FOR_INT64, 10**20])
async def test_global_limit_too_large_returns_422(
    client: httpx.AsyncClient, database: Database, limit: int
) -> None:
    response = await client.post(
        "/v2/concurrency_limits/", json={"name": "huge", "limit": limit}
    )
    read = await client.get("/v2/concurrency_limits/huge")

    # SQLite stores 64-bit integers, so only PostgreSQL's int32 column
    # rejects 2**31.
    if limit == TOO_BIG_FOR_INT32 and database.is_sqlite:
        assert response.status_code == 201
        return
    assert response.status_code == 422
    assert "range" in response.json()["detail"]
    assert read.status_code == 404


async def test_nul_in_name_not_server_error(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post("/flows/", json={"name": "a\x00b"})
    listed = await client.post("/flows/filter", json={})

    # SQLite stores NUL characters; PostgreSQL text cannot hold them.
    if database.is_sqlite:
        assert response.status_code == 201
        return
    assert response.status_code == 422
    assert "0x00" in response.json()["detail"]
    assert listed.json() == []


async def test_nul_in_parameters_not_server_error(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow = await create_flow(client, "nul-parameters")

    response = await client.post(
        "/flow_runs/", json={"flow_id": flow["id"], "parameters": {"x": "a\x00b"}}
    )
    runs = await client.post("/flow_runs/filter", json={})

    if database.is_sqlite:
        assert response.status_code == 201
        return
    assert response.status_code == 422
    assert "invalid" in response.json()["detail"]
    assert runs.json() == []


async def test_unindexable_name_not_server_error(
    client: httpx.AsyncClient, database: Database
) -> None:
    # PostgreSQL indexes at most about 2700 bytes of a key; SQLite has no limit.
    # Random text, because PostgreSQL compresses a repetitive key to fit.
    name = secrets.token_hex(10_000)

    response = await client.post("/flows/", json={"name": name})

    if database.is_sqlite:
        assert response.status_code == 201
        return
    assert response.status_code == 422
    assert "index row" in response.json()["detail"]


async def test_tag_limit_rejects_slash_in_tag(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/concurrency_limits/", json={"tag": "a/b", "concurrency_limit": 1}
    )
    listed = await client.post("/concurrency_limits/filter", json={})

    assert response.status_code == 422
    assert "body.tag" in response.json()["detail"]
    assert listed.json() == []


async def test_task_run_in_missing_flow_run_names_it(client: httpx.AsyncClient) -> None:
    flow_run_id = str(uuid.uuid4())

    response = await client.post(
        "/task_runs/",
        json={"flow_run_id": flow_run_id, "task_key": "k", "dynamic_key": "0"},
    )
    listed = await client.post("/task_runs/filter", json={})

    assert response.status_code == 409
    assert flow_run_id in response.json()["detail"]
    assert listed.json() == []


async def test_deployment_stores_block_and_limit_ids(client: httpx.AsyncClient) -> None:
    flow = await create_flow(client, "with-blocks")
    storage_id, infrastructure_id, new_storage_id, limit_id = (
        str(uuid.uuid4()) for _ in range(4)
    )

    created = await client.post(
        "/deployments/",
        json={
            "flow_id": flow["id"],
            "name": "d",
            "storage_document_id": storage_id,
            "infrastructure_document_id": infrastructure_id,
        },
    )
    patched = await client.patch(
        f"/deployments/{created.json()['id']}",
        json={
            "storage_document_id": new_storage_id,
            "global_concurrency_limit_id": limit_id,
        },
    )
    read = await client.get(f"/deployments/{created.json()['id']}")

    assert created.status_code == 201, created.text
    assert created.json()["storage_document_id"] == storage_id
    assert created.json()["infrastructure_document_id"] == infrastructure_id
    assert patched.status_code == 204, patched.text
    assert read.json()["storage_document_id"] == new_storage_id


async def test_duplicate_unique_name_returns_409(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post("/variables/", json={"name": "once", "value": 1})
    second = await client.post("/variables/", json={"name": "once", "value": 2})
    read = await client.get("/variables/name/once")

    assert first.status_code == 201
    assert second.status_code == 409
    assert "once" in second.json()["detail"]
    assert read.json()["value"] == 1


def nested(depth: int) -> dict:
    """Return a JSON object nested `depth` objects deep."""
    value: dict = {}
    for _ in range(depth - 1):
        value = {"x": value}
    return value


@pytest.mark.parametrize("depth", [201, 300, 900])
async def test_json_too_deep_returns_422(client: httpx.AsyncClient, depth: int) -> None:
    # The artifact's data sits one level below the body, at `depth`.
    body = {"key": "deep", "type": "json", "data": nested(depth - 1)}

    response = await client.post("/artifacts/", json=body)
    listed = await client.post("/artifacts/filter", json={})

    assert response.status_code == 422
    assert "nests more than 200" in response.json()["detail"]
    assert listed.status_code == 200
    assert listed.json() == []


async def test_json_nested_to_limit_round_trips(client: httpx.AsyncClient) -> None:
    body = {"key": "deep", "type": "json", "data": nested(199)}

    response = await client.post("/artifacts/", json=body)
    listed = await client.post("/artifacts/filter", json={})

    assert response.status_code == 201, response.text
    assert listed.json()[0]["data"] == nested(199)


async def test_variable_nested_too_deep_returns_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/variables/", json={"name": "deep", "value": nested(260)}
    )

    assert response.status_code == 422
    assert response.json()["exception_detail"][0]["loc"] == ["body"]


async def test_naive_scheduled_time_is_read_as_utc(client: httpx.AsyncClient) -> None:
    flow = await create_flow(client, "naive-times")
    state = {
        "type": "SCHEDULED",
        "state_details": {"scheduled_time": "2030-01-01T00:00:00"},
    }

    created = await client.post(
        "/flow_runs/", json={"flow_id": flow["id"], "state": state}
    )
    read = await client.get(f"/flow_runs/{created.json()['id']}")

    assert created.status_code == 201, created.text
    details = read.json()["state"]["state_details"]
    assert details["scheduled_time"] == "2030-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("body", "kind"), [([], "an array"), ("x", "a string"), (3, "a number")]
)
async def test_filter_body_not_object_names_it(
    client: httpx.AsyncClient, body: object, kind: str
) -> None:
    response = await client.post("/flows/filter", json=body)

    assert response.status_code == 422
    assert response.json()["detail"].endswith(f"must be a JSON object, not {kind}.")


async def test_logs_body_not_array_keeps_field_detail(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/logs/", json={"name": "x"})

    assert response.status_code == 422
    assert "JSON object" not in response.json()["detail"]


async def test_null_for_required_field_returns_422(client: httpx.AsyncClient) -> None:
    flow = await create_flow(client, "null-tags")

    response = await client.patch(f"/flows/{flow['id']}", json={"tags": None})
    read = await client.get(f"/flows/{flow['id']}")

    assert response.status_code == 422
    assert "tags" in response.json()["detail"]
    assert read.json()["tags"] == []


async def test_null_job_template_returns_422(client: httpx.AsyncClient) -> None:
    await client.post("/work_pools/", json={"name": "null-template"})

    response = await client.patch(
        "/work_pools/null-template", json={"base_job_template": None}
    )

    assert response.status_code == 422
    assert "base_job_template" in response.json()["detail"]


async def count_runs(client: httpx.AsyncClient) -> int:
    response = await client.post("/flow_runs/count", json={})
    assert response.status_code == 200, response.text
    return response.json()


async def test_lone_surrogate_in_name_returns_422(client: httpx.AsyncClient) -> None:
    flow = await create_flow(client, "surrogate")
    # Written by hand: the escape decodes to half of a UTF-16 pair.
    body = '{"flow_id": "' + flow["id"] + '", "name": "\\ud800"}'
    response = await client.post(
        "/flow_runs/",
        content=body.encode(),
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422
    assert "surrogate" in response.json()["detail"]
    assert await count_runs(client) == 0


async def test_scheduled_time_before_year_one_utc_returns_422(
    client: httpx.AsyncClient,
) -> None:
    flow = await create_flow(client, "year-one")
    details = {"scheduled_time": "0001-01-01T00:00:00+05:00"}
    response = await client.post(
        "/flow_runs/",
        json={
            "flow_id": flow["id"],
            "state": {"type": "SCHEDULED", "state_details": details},
        },
    )

    assert response.status_code == 422
    assert "out of range" in response.json()["detail"]
    assert await count_runs(client) == 0
