"""API tests for `/artifacts`."""

import uuid

import httpx


async def create_artifact(client: httpx.AsyncClient, **fields: object) -> dict:
    response = await client.post("/artifacts/", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def create_flow_run(client: httpx.AsyncClient) -> str:
    flow = await client.post("/flows/", json={"name": f"f-{uuid.uuid4().hex[:6]}"})
    run = await client.post("/flow_runs/", json={"flow_id": flow.json()["id"]})
    assert run.status_code == 201, run.text
    return run.json()["id"]


async def test_create_each_artifact_type(client: httpx.AsyncClient) -> None:
    cases = [
        ("markdown", "# hi"),
        ("table", [{"a": 1}]),
        ("link", "[x](https://example.invalid)"),
        ("image", "https://example.invalid/x.png"),
        ("progress", 42.5),
    ]
    for kind, data in cases:
        created = await create_artifact(client, type=kind, data=data, key=f"k-{kind}")

        assert created["type"] == kind
        assert created["data"] == data


async def test_create_artifact_bad_key_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/artifacts/", json={"key": "Bad Key", "data": 1})

    assert response.status_code == 422
    assert "body.key" in response.json()["detail"]


async def test_read_update_delete_artifact(client: httpx.AsyncClient) -> None:
    created = await create_artifact(client, type="progress", data=0.0, description="d")
    url = f"/artifacts/{created['id']}"

    patched = await client.patch(url, json={"data": 50.0})
    read = await client.get(url)
    deleted = await client.delete(url)
    missing = await client.get(url)

    assert patched.status_code == 204
    assert read.json()["data"] == 50.0
    assert read.json()["description"] == "d"
    assert deleted.status_code == 204
    assert missing.status_code == 404


async def test_latest_artifact_by_key(client: httpx.AsyncClient) -> None:
    await create_artifact(client, key="report", type="markdown", data="v1")
    second = await create_artifact(client, key="report", type="markdown", data="v2")
    await create_artifact(client, key="other", type="markdown", data="o")

    latest = await client.get("/artifacts/report/latest")
    collections = await client.post(
        "/artifacts/latest/filter", json={"artifacts": {"key": {"any_": ["report"]}}}
    )
    count = await client.post("/artifacts/latest/count", json={})
    all_versions = await client.post(
        "/artifacts/count", json={"artifacts": {"key": {"any_": ["report"]}}}
    )

    assert latest.json()["id"] == second["id"]
    assert len(collections.json()) == 1
    assert collections.json()[0]["latest_id"] == second["id"]
    assert collections.json()[0]["data"] == "v2"
    assert count.json() == 2
    assert all_versions.json() == 2


async def test_delete_latest_falls_back(client: httpx.AsyncClient) -> None:
    first = await create_artifact(client, key="rolling", data="v1")
    second = await create_artifact(client, key="rolling", data="v2")

    await client.delete(f"/artifacts/{second['id']}")
    after_one = await client.get("/artifacts/rolling/latest")
    await client.delete(f"/artifacts/{first['id']}")
    after_both = await client.get("/artifacts/rolling/latest")

    assert after_one.json()["id"] == first["id"]
    assert after_both.status_code == 404


async def test_filter_artifacts_by_type_and_key(client: httpx.AsyncClient) -> None:
    await create_artifact(client, key="alpha", type="table", data=[])
    await create_artifact(client, type="markdown", data="no key")

    tables = await client.post(
        "/artifacts/filter", json={"artifacts": {"type": {"any_": ["table"]}}}
    )
    keyless = await client.post(
        "/artifacts/filter", json={"artifacts": {"key": {"exists_": False}}}
    )
    like = await client.post(
        "/artifacts/filter", json={"artifacts": {"key": {"like_": "lph"}}}
    )

    assert [a["key"] for a in tables.json()] == ["alpha"]
    assert [a["data"] for a in keyless.json()] == ["no key"]
    assert [a["key"] for a in like.json()] == ["alpha"]


async def test_filter_artifacts_by_flow_run(client: httpx.AsyncClient) -> None:
    run_id = await create_flow_run(client)
    mine = await create_artifact(client, key="mine", data=1, flow_run_id=run_id)
    await create_artifact(client, key="theirs", data=2)

    direct = await client.post(
        "/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run_id]}}}
    )
    related = await client.post(
        "/artifacts/filter", json={"flow_runs": {"id": {"any_": [run_id]}}}
    )

    assert [a["id"] for a in direct.json()] == [mine["id"]]
    assert [a["id"] for a in related.json()] == [mine["id"]]


async def test_filter_artifacts_null_sort(client: httpx.AsyncClient) -> None:
    await create_artifact(client, key="nullsort", data=1)

    plain = await client.post("/artifacts/filter", json={"sort": None, "limit": None})
    latest = await client.post("/artifacts/latest/filter", json={"sort": None})

    assert plain.status_code == 200
    assert latest.status_code == 200
    assert [a["key"] for a in latest.json()] == ["nullsort"]
